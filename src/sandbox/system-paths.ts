// The parts of the system every sandboxed engine needs, and nothing else: programs and libraries, the few files in
// /etc that name resolution, TLS and user lookups read, time zones, /proc (other processes' environ, memory and fds
// stay out of reach: Landlock refuses ptrace-class access across domains), and the harmless devices. Never all of
// /etc: a container image may keep its configuration there (the image's is /etc/driftwatch/).
import { existsSync } from "node:fs";

const READ_ONLY_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/alternatives"];

const READ_ONLY_FILES = [
  "/etc/resolv.conf",
  "/etc/hosts",
  "/etc/host.conf",
  "/etc/gai.conf",
  "/etc/nsswitch.conf",
  "/etc/passwd",
  "/etc/group",
  "/etc/services",
  "/etc/protocols",
  "/etc/localtime",
  "/etc/timezone",
  "/etc/ld.so.cache",
  "/etc/mime.types",
  "/etc/os-release",
];

const DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"];

/** The system paths engines read, as far as this machine has them. */
export function systemReadOnly(): string[] {
  return [...READ_ONLY_DIRS, ...READ_ONLY_FILES].filter((path) => existsSync(path));
}

/** The devices engines write to (read: /dev/urandom; write: /dev/null). */
export function systemDevices(): string[] {
  return DEVICES.filter((path) => existsSync(path));
}
