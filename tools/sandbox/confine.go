package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// confine turns this process into the program: limits, no capabilities, no_new_privs, the Landlock domain, exec.
// Everything is applied on this (locked) thread, which is the one that execs.
func confine(args []string) {
	inv, err := parseInvocation(args, "")
	if err != nil {
		fail("%v", err)
	}
	policy := inv.policy
	if err := setLimits(policy); err != nil {
		fail("resource limits: %v", err)
	}
	if err := dropCapabilities(); err != nil {
		fail("dropping capabilities: %v", err)
	}
	abi, _, _ := landlockABI()
	config := landlockConfig(policy, abi)
	rules, err := landlockRules(policy, abi, config)
	if err != nil {
		fail("%v", err)
	}
	fd, flags, err := config.NewRulesetFD(rules...)
	if err != nil {
		fail("building the Landlock ruleset: %v", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail("no_new_privs: %v", err)
	}
	if fd >= 0 {
		if err := ll.LandlockRestrictSelf(fd, flags); err != nil {
			fail("entering the Landlock domain: %v", err)
		}
		_ = unix.Close(fd)
	}
	program := inv.argv[0]
	path, err := exec.LookPath(program)
	if err != nil {
		fmt.Fprintf(os.Stderr, "driftwatch-sandbox: %s: not found on PATH (%v)\n", program, err)
		os.Exit(exitNotFound)
	}
	err = syscall.Exec(path, inv.argv, programEnv())
	fmt.Fprintf(os.Stderr, "driftwatch-sandbox: cannot execute %s: %v (the program must be inside a path the sandbox grants)\n", path, err)
	if errors.Is(err, syscall.ENOENT) {
		os.Exit(exitNotFound)
	}
	os.Exit(exitCannotExecute)
}

func setLimits(policy Policy) error {
	limits := []struct {
		resource int
		value    uint64
		grace    uint64
	}{
		{unix.RLIMIT_CORE, 0, 0},
		{unix.RLIMIT_DATA, policy.MemoryBytes, 0},
		// SIGXCPU at the soft limit (a program may stop cleanly), SIGKILL five seconds of CPU later.
		{unix.RLIMIT_CPU, policy.CPUSeconds, 5},
	}
	for _, limit := range limits {
		if limit.value == 0 && limit.resource != unix.RLIMIT_CORE {
			continue
		}
		var current unix.Rlimit
		if err := unix.Getrlimit(limit.resource, &current); err != nil {
			return err
		}
		wanted := unix.Rlimit{Cur: limit.value, Max: limit.value + limit.grace}
		// Never raise a limit the service already runs under.
		if current.Max != unix.RLIM_INFINITY && wanted.Max > current.Max {
			wanted.Max = current.Max
		}
		if wanted.Cur > wanted.Max {
			wanted.Cur = wanted.Max
		}
		if err := unix.Setrlimit(limit.resource, &wanted); err != nil {
			return fmt.Errorf("resource %d: %v", limit.resource, err)
		}
	}
	return nil
}

// Securebits (linux/securebits.h): root gets no capabilities from exec (NOROOT), uid changes do not touch
// capabilities, ambient capabilities cannot be raised, and each of these is locked.
const (
	secureNoRoot             = 1 << 0
	secureNoRootLocked       = 1 << 1
	secureNoSetuidFixup      = 1 << 2
	secureNoSetuidFixupLock  = 1 << 3
	secureKeepCapsLocked     = 1 << 5
	secureNoCapAmbientRaise  = 1 << 6
	secureNoCapAmbientLocked = 1 << 7
)

func lastCapability() int {
	text, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(text))); err == nil {
			return n
		}
	}
	return 63
}

// dropCapabilities empties every capability set of this thread for good. In a user namespace the launcher holds
// every capability of that namespace (never of the host's); as root without one, the host's. Either way the program
// starts with none, and, with securebits locked, cannot get any back by exec (root's usual gift) or by setuid.
func dropCapabilities() error {
	header := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&header, &data[0]); err != nil {
		return err
	}
	if data[0].Effective&(1<<unix.CAP_SETPCAP) != 0 {
		bits := secureNoRoot | secureNoRootLocked | secureNoSetuidFixup | secureNoSetuidFixupLock | secureKeepCapsLocked | secureNoCapAmbientRaise | secureNoCapAmbientLocked
		if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(bits), 0, 0, 0); err != nil {
			return fmt.Errorf("securebits: %v", err)
		}
		for capability := 0; capability <= lastCapability(); capability++ {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(capability), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("bounding set, capability %d: %v", capability, err)
			}
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("ambient set: %v", err)
	}
	data = [2]unix.CapUserData{}
	if err := unix.Capset(&header, &data[0]); err != nil {
		return fmt.Errorf("capset: %v", err)
	}
	if err := unix.Capget(&header, &data[0]); err != nil {
		return err
	}
	for _, d := range data {
		if d.Effective != 0 || d.Permitted != 0 || d.Inheritable != 0 {
			return fmt.Errorf("capabilities still held after dropping them: %+v", data)
		}
	}
	return nil
}

// fsConfigs are the file-system rights of each ABI up to 5 (ioctl on devices). ABI 9's control of connecting to
// pathname Unix sockets is not used: Terraform providers and Pulumi plugins talk over sockets in their temp folder,
// which a later version can grant explicitly; until then Unix sockets are governed by file permissions only.
var fsConfigs = []landlock.Config{landlock.V1, landlock.V2, landlock.V3, landlock.V4, landlock.V5}

// landlockConfig is what the domain restricts: every file-system right this kernel knows (up to ABI 5); TCP bind
// and connect (ABI 4) unless the policy allows any network; signals to and abstract Unix sockets of processes
// outside the domain (ABI 6). The policy's level says what is required (checked by the supervisor); whatever more
// the kernel offers is used too.
func landlockConfig(policy Policy, abi int) landlock.Config {
	config := landlock.Config{}
	if abi < 1 {
		return config
	}
	config.HandledAccessFS = fsConfigs[min(abi, len(fsConfigs))-1].HandledAccessFS
	if policy.Network != "any" && abi >= 4 {
		config.HandledAccessNet = landlock.V4.HandledAccessNet
	}
	if abi >= 6 {
		config.Scoped = landlock.V6.Scoped
	}
	return config
}

func landlockRules(policy Policy, abi int, config landlock.Config) ([]landlock.Rule, error) {
	var rules []landlock.Rule
	for _, path := range policy.ReadOnly {
		info, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("read-only path %s: %v", path, err)
		}
		if info.IsDir() {
			rules = append(rules, landlock.RODirs(path))
		} else {
			rules = append(rules, landlock.ROFiles(path))
		}
	}
	for _, path := range policy.ReadWrite {
		info, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("read-write path %s: %v", path, err)
		}
		switch {
		case !info.IsDir():
			rules = append(rules, landlock.RWFiles(path))
		case abi >= 2:
			// Moving files between folders of the grant (npm, Pulumi's backend) needs "refer".
			rules = append(rules, landlock.RWDirs(path).WithRefer())
		default:
			rules = append(rules, landlock.RWDirs(path))
		}
	}
	if config.HandledAccessNet != 0 && policy.Network == "ports" {
		for _, port := range policy.ConnectPorts {
			rules = append(rules, landlock.ConnectTCP(port))
		}
	}
	return rules, nil
}
