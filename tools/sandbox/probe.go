package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"syscall"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// Support is what the kernel offers the sandbox, as `probe` prints it.
type Support struct {
	// The Landlock ABI (0: none), capped by DRIFTWATCH_SANDBOX_MAX_ABI.
	LandlockABI int `json:"landlockAbi"`
	// The kernel's own ABI before that cap.
	KernelLandlockABI int `json:"kernelLandlockAbi"`
	// Why Landlock is unavailable, when it is.
	LandlockError string `json:"landlockError,omitempty"`
	// A new user namespace with a new PID and network namespace can be made (else: child subreaper, no netns).
	Namespaces      bool   `json:"namespaces"`
	NamespacesError string `json:"namespacesError,omitempty"`
	// The service's user: as root, the sandbox still drops every capability.
	UID int `json:"uid"`
}

func landlockABI() (abi int, kernel int, err error) {
	kernel, err = ll.LandlockGetABIVersion()
	if err != nil {
		kernel = 0
	}
	abi = kernel
	if limit := maxABI(); limit >= 0 && abi > limit {
		abi = limit
	}
	return abi, kernel, err
}

// namespaceFlags are the namespaces init gets; with no network, a network namespace of its own too.
func namespaceFlags(network string) uintptr {
	flags := uintptr(syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID)
	if network == "none" {
		flags |= syscall.CLONE_NEWNET
	}
	return flags
}

// identityMaps map the caller's uid and gid to themselves in the new user namespace: files keep their owners.
func identityMaps() ([]syscall.SysProcIDMap, []syscall.SysProcIDMap) {
	return []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}},
		[]syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
}

// namespacesWork starts a child in the namespaces `run` would use, once.
func namespacesWork() error {
	if os.Getenv(envNamespaces) == "off" {
		return errNamespacesOff
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	uids, gids := identityMaps()
	cmd := exec.Command(self, stageProbeChild)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: namespaceFlags("none"), UidMappings: uids, GidMappings: gids}
	return cmd.Run()
}

var errNamespacesOff = errors.New(envNamespaces + "=off")

func probe() {
	support := Support{UID: os.Getuid()}
	var err error
	support.LandlockABI, support.KernelLandlockABI, err = landlockABI()
	if err != nil {
		support.LandlockError = err.Error()
	}
	if err := namespacesWork(); err != nil {
		support.NamespacesError = err.Error()
	} else {
		support.Namespaces = true
	}
	out, _ := json.Marshal(support)
	os.Stdout.Write(append(out, '\n'))
}
