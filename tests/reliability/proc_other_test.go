//go:build !linux

package reliability_test

import "syscall"

// dieWithParent returns nil: outside Linux a child process is stopped by
// the test's cleanups only.
func dieWithParent() *syscall.SysProcAttr { return nil }
