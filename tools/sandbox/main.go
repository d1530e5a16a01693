// Command driftwatch-sandbox starts one process tree of a stack's repository code (an engine CLI with its plugins
// and the program it runs, an npm install, kustomize) confined by the operating system, and makes sure nothing of
// that tree outlives it.
//
//	driftwatch-sandbox probe                              what this kernel offers, as JSON on stdout
//	driftwatch-sandbox run --policy <json> -- <bin> [args...]
//
// `run` is three processes, each doing one thing:
//
//	supervisor   (this command, outside everything) forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT, exits with the
//	             program's status; if it is killed, the kernel kills the rest (parent-death signal).
//	init         PID 1 of a new PID namespace (inside a new user namespace, and a new network namespace when the
//	             policy allows no network): starts the program, forwards signals, reaps orphans, and exits with the
//	             program's status as soon as the program ends, which makes the kernel kill everything left in the
//	             namespace. Where namespaces are not available, the supervisor itself is a child subreaper that
//	             kills every descendant left when the program ends.
//	confine      becomes the program: resource limits, no capability left in any set (bounding, ambient,
//	             inheritable, permitted, effective) and securebits locked so exec cannot give any back,
//	             no_new_privs, the Landlock domain (files, TCP, and on ABI 6 signal and abstract-socket scoping),
//	             then execve.
//
// Errors of the launcher itself go to stderr prefixed "driftwatch-sandbox: " with exit status 125, the convention
// of env(1) and container runtimes; 126/127 when the program cannot be executed or found.
package main

import (
	"fmt"
	"os"
	"runtime"
)

// The main goroutine stays on the main OS thread: capabilities, securebits, no_new_privs and the Landlock domain
// are per thread, and the thread that applies them must be the one that execs (confine), or that starts the
// child whose parent-death signal is tied to it (supervisor).
func init() {
	runtime.LockOSThread()
}

const (
	exitLauncherFailed = 125
	exitCannotExecute  = 126
	exitNotFound       = 127
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "driftwatch-sandbox: "+format+"\n", args...)
	os.Exit(exitLauncherFailed)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: driftwatch-sandbox probe | run --policy <json> -- <bin> [args...]")
	}
	switch os.Args[1] {
	case "probe":
		probe()
	case "run":
		supervise(os.Args[2:])
	case stageInit:
		initProcess(os.Args[2:])
	case stageConfine:
		confine(os.Args[2:])
	case stageProbeChild:
		os.Exit(0)
	default:
		fail("unknown command %q: expected probe or run", os.Args[1])
	}
}
