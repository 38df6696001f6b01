package main

import (
	"os"
	"runtime"
	"strings"
)

func goMaxProcs() int { return runtime.GOMAXPROCS(0) }

// loadAvg returns the 1-minute load average (Linux), so a result taken on a
// busy machine says so.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
