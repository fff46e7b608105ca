package reliability_test

import "syscall"

// dieWithParent makes a child process die with the test binary, even when
// a test timeout ends the binary without running cleanups.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
