//go:build tools

// Package tools pins the Go driver's main package in this module, so go.mod and go.sum hold
// every module its build needs; build.sh builds it by its package path.
package tools

import _ "sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver"
