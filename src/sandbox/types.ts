// The sandbox's vocabulary, apart from the code that launches (see docs/security.md).

/**
 * How confined a stack's repository code runs:
 * - strict: Landlock (files, and TCP connect to an allow-list; ABI 4, Linux 6.7+), no capability, its own PID
 *   namespace (or a child subreaper), memory and CPU-time limits. The default; refused where the kernel lacks it.
 * - files: the same without the TCP rules, for kernels with Landlock ABI 1–3 (Linux 5.13–6.6).
 * - off: unconfined (engines run as the service's user, as before); every run records and shows it.
 */
export const SANDBOX_LEVELS = ["strict", "files", "off"] as const;
export type SandboxLevel = (typeof SANDBOX_LEVELS)[number];

/** One stack's sandbox settings, normalized (paths absolute). */
export interface StackSandbox {
  level: SandboxLevel;
  /** Extra files and folders the stack's processes may read. */
  readOnly: string[];
  /** Extra files and folders they may read and write (a local "world" the stack manages, a shared cache it trusts). */
  readWrite: string[];
  /** TCP ports they may connect to besides 443, 80 and the ports of endpoints the stack's settings name. */
  connectPorts: number[];
  /** The data-segment limit of each process (RLIMIT_DATA), in bytes. */
  memoryBytes: number;
  /** The CPU time each process may use (RLIMIT_CPU), in seconds. */
  cpuSeconds: number;
}

/** What the launcher (tools/sandbox) is told, as JSON: paths and ports, never a secret. */
export interface LauncherPolicy {
  level: Exclude<SandboxLevel, "off">;
  readOnly: string[];
  readWrite: string[];
  /** any: TCP unrestricted; ports: connect only to connectPorts, no bind; none: no network at all. */
  network: "any" | "ports" | "none";
  connectPorts: number[];
  memoryBytes: number;
  cpuSeconds: number;
}

/** What the kernel offers, as `driftwatch-sandbox probe` reports it. */
export interface SandboxSupport {
  landlockAbi: number;
  kernelLandlockAbi: number;
  landlockError?: string;
  /** User + PID (+ network) namespaces work: nothing outlives a run even if the launcher is killed. */
  namespaces: boolean;
  namespacesError?: string;
  uid: number;
}
