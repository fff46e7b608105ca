package redistest

import "syscall"

// dieWithParent makes a server die with the test binary, even when a test
// timeout ends the binary without running cleanups.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
