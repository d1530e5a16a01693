//go:build tools

// Package tools pins the OpenTofu CLI so `go build` can produce it from the Go module proxy.
package tools

import (
	_ "github.com/opentofu/opentofu/cmd/tofu"
)
