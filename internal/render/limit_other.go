//go:build !linux

package render

import (
	"os/exec"
	"runtime/debug"
)

// limitMemory sets the runtime's soft memory limit to n: on this system
// there is no hard bound.
func limitMemory(n int64) { debug.SetMemoryLimit(n) }

// isolate leaves cmd as it is: its cancellation kills the child alone.
func isolate(*exec.Cmd) {}
