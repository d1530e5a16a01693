//go:build tools

// Package tools pins kube-apiserver so `go build` can produce it from the Go module proxy. go.mod's replace
// block is generated from Kubernetes' own go.mod, not typed: after changing kubeApiserver in
// toolchain/versions.json, run `node src/toolchain/generate-kube-wrapper.ts` (Node >= 22), which rewrites
// go.mod and this file and runs `go mod tidy`.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
