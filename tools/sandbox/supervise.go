package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	stageInit       = "__init"
	stageConfine    = "__confine"
	stageProbeChild = "__probe-child"
)

// forwarded are the signals a caller stops a run with; SIGKILL needs no forwarding (parent-death signals).
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

func supervise(args []string) {
	inv, err := parseInvocation(args, "--policy")
	if err != nil {
		fail("%v", err)
	}
	abi, kernel, llErr := landlockABI()
	if need := inv.policy.requiredABI(); abi < need {
		why := ""
		if llErr != nil {
			why = " (" + llErr.Error() + ")"
		} else if abi < kernel {
			why = " (" + envMaxABI + " caps it)"
		}
		fail("sandbox level %s needs Landlock ABI %d or later; this kernel offers %d%s", inv.policy.Level, need, abi, why)
	}
	self, err := os.Executable()
	if err != nil {
		fail("cannot find the launcher's own executable: %v", err)
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, forwarded...)

	if os.Getenv(envNamespaces) != "off" {
		cmd := exec.Command(self, inv.stageArgs(stageInit)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		uids, gids := identityMaps()
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  namespaceFlags(inv.policy.Network),
			UidMappings: uids,
			GidMappings: gids,
			// This thread (locked, see main.go) lives as long as the launcher: if the launcher dies, so does init,
			// and with init every process of its PID namespace.
			Pdeathsig: syscall.SIGKILL,
			// Its own process group: a signal to the caller's group reaches init only through this forwarding.
			Setpgid: true,
		}
		err := cmd.Start()
		if err == nil {
			go func() {
				for sig := range signals {
					_ = cmd.Process.Signal(sig)
				}
			}()
			_ = cmd.Wait()
			os.Exit(exitCodeOf(cmd.ProcessState.Sys().(syscall.WaitStatus)))
		}
		if !namespaceRefused(err) {
			fail("cannot start the sandbox's init: %v", err)
		}
		// No (unprivileged) user namespaces here: the child-subreaper fallback below.
	}
	superviseAsSubreaper(self, inv, signals)
}

// namespaceRefused: the kernel (or a seccomp filter, or a sysctl) does not let this user make the namespaces.
func namespaceRefused(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.EACCES, syscall.EINVAL, syscall.ENOSPC, syscall.EUSERS, syscall.ENOSYS} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// superviseAsSubreaper runs the program as a child of a child subreaper: processes it leaves behind (daemons,
// setsid) are re-parented to this launcher rather than to init, and are killed when the program ends.
func superviseAsSubreaper(self string, inv invocation, signals chan os.Signal) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fail("cannot become a child subreaper: %v", err)
	}
	cmd := exec.Command(self, inv.stageArgs(stageConfine)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fail("cannot start the program: %v", err)
	}
	program := cmd.Process.Pid
	go func() {
		for sig := range signals {
			_ = syscall.Kill(-program, sig.(syscall.Signal))
		}
	}()
	// Once the program has ended, what is left of its descendants is killed, and reaped.
	os.Exit(reap(program, func() bool { killDescendants(); return true }))
}

// reap waits for children, orphans re-parented to this process included, until `program` has ended; then
// `afterProgram` says whether to go on until no child is left. Returns the program's exit code.
func reap(program int, afterProgram func() (goOn bool)) int {
	code, ended := exitLauncherFailed, false
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			if !ended {
				fail("lost track of the program: %v", err)
			}
			return code // ECHILD: nobody left
		}
		if pid == program {
			code, ended = exitCodeOf(status), true
			if !afterProgram() {
				return code
			}
		}
	}
}

// killDescendants sends SIGKILL to every process below this one until none is left (or, for one stuck in an
// uninterruptible sleep, until it has had ten seconds to die).
func killDescendants() {
	deadline := time.Now().Add(10 * time.Second)
	for round := 0; ; round++ {
		victims := descendantsOf(os.Getpid())
		if len(victims) == 0 || time.Now().After(deadline) {
			return
		}
		if round > 0 {
			time.Sleep(5 * time.Millisecond) // a killed process takes a moment to become a zombie
		}
		for _, pid := range victims {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		// Killed processes' own children are re-parented to this subreaper and appear in the next round; the
		// zombies of this round are reaped by reapAll's loop.
		for _, pid := range victims {
			var status syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &status, syscall.WNOHANG, nil)
		}
	}
}

func exitCodeOf(status syscall.WaitStatus) int {
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}
