package testenv

import "syscall"

// sysProcAttr makes the kernel kill a control-plane process when the test
// binary dies without running its cleanups (a panic or a -timeout), so no
// etcd or kube-apiserver is left holding ports.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
