package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Policy is what one process tree may do. Driftwatch builds it per run (src/sandbox/); it holds paths and ports,
// never a secret.
type Policy struct {
	// Level "strict" needs Landlock ABI >= 4 (files and TCP); "files" needs ABI >= 1 and leaves TCP alone.
	Level string `json:"level"`
	// Files and directories readable (and executable) beneath.
	ReadOnly []string `json:"readOnly"`
	// Files and directories readable, writable and executable beneath.
	ReadWrite []string `json:"readWrite"`
	// "any": TCP not restricted; "ports": TCP connect only to ConnectPorts, no TCP bind; "none": no network at all
	// (a network namespace of its own where namespaces work; otherwise no TCP connect or bind).
	Network      string   `json:"network"`
	ConnectPorts []uint16 `json:"connectPorts"`
	// RLIMIT_DATA of each process (0: none).
	MemoryBytes uint64 `json:"memoryBytes"`
	// RLIMIT_CPU of each process, in seconds of CPU time (0: none).
	CPUSeconds uint64 `json:"cpuSeconds"`
}

// Variables of the launcher's environment that tune the launcher itself; they are removed from the program's.
const (
	// Treat the kernel as offering at most this Landlock ABI (to see what a weaker kernel gets, and for tests).
	envMaxABI = "DRIFTWATCH_SANDBOX_MAX_ABI"
	// "off": do not use namespaces even where they work (the child-subreaper fallback), for the same purpose.
	envNamespaces = "DRIFTWATCH_SANDBOX_NAMESPACES"
)

func (p *Policy) check() error {
	switch p.Level {
	case "strict", "files":
	default:
		return fmt.Errorf("policy level %q: expected strict or files", p.Level)
	}
	switch p.Network {
	case "any", "ports", "none":
	default:
		return fmt.Errorf("policy network %q: expected any, ports or none", p.Network)
	}
	for _, list := range [][]string{p.ReadOnly, p.ReadWrite} {
		for _, path := range list {
			if !filepath.IsAbs(path) {
				return fmt.Errorf("policy path %q is not absolute", path)
			}
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("policy path %q: %v", path, err)
			}
		}
	}
	return nil
}

// requiredABI is the lowest Landlock ABI the policy can be enforced with.
func (p *Policy) requiredABI() int {
	if p.Level == "strict" {
		return 4
	}
	return 1
}

// invocation is `<policy json> -- <bin> [args...]` (each stage passes it on to the next).
type invocation struct {
	policyJSON string
	policy     Policy
	argv       []string
}

func parseInvocation(args []string, flag string) (invocation, error) {
	var inv invocation
	rest := args
	if flag != "" {
		if len(rest) < 2 || rest[0] != flag {
			return inv, fmt.Errorf("expected %s <json> -- <bin> [args...]", flag)
		}
		rest = rest[1:]
	}
	if len(rest) < 3 || rest[1] != "--" {
		return inv, fmt.Errorf("expected <policy json> -- <bin> [args...]")
	}
	inv.policyJSON = rest[0]
	inv.argv = rest[2:]
	decoder := json.NewDecoder(strings.NewReader(inv.policyJSON))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&inv.policy); err != nil {
		return inv, fmt.Errorf("policy: %v", err)
	}
	return inv, inv.policy.check()
}

func (inv invocation) stageArgs(stage string) []string {
	return append([]string{stage, inv.policyJSON, "--"}, inv.argv...)
}

// maxABI is the operator's cap on the ABI used (envMaxABI), or -1.
func maxABI() int {
	value, ok := os.LookupEnv(envMaxABI)
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 0 {
		fail("%s=%q: expected a number >= 0", envMaxABI, value)
	}
	return n
}

// programEnv is the launcher's environment without its own settings.
func programEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, envMaxABI+"=") || strings.HasPrefix(kv, envNamespaces+"=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
