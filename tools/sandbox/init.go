package main

import (
	"os"
	"os/signal"
	"syscall"
)

// initProcess is PID 1 of the run's PID namespace. It starts the program (through the confine stage) in a process
// group of its own, forwards the signals the supervisor passes on, reaps orphans, and exits with the program's status
// the moment the program ends: the kernel then kills every other process of the namespace (a daemon the program
// left, a `setsid` child) before the supervisor sees init's status.
func initProcess(args []string) {
	inv, err := parseInvocation(args, "")
	if err != nil {
		fail("%v", err)
	}
	self, err := os.Executable()
	if err != nil {
		fail("cannot find the launcher's own executable: %v", err)
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, forwarded...)
	program, err := syscall.ForkExec(self, append([]string{self}, inv.stageArgs(stageConfine)...), &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		fail("cannot start the program: %v", err)
	}
	go func() {
		for sig := range signals {
			_ = syscall.Kill(-program, sig.(syscall.Signal))
		}
	}()
	// The moment the program ends: exit, and the kernel ends the rest of the namespace.
	os.Exit(reap(program, func() bool { return false }))
}
