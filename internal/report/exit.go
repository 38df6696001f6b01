package report

import (
	"fmt"
	"strings"

	"github.com/archwaydev/archway/internal/assess"
)

// FailOn is the --fail-on policy: which verdicts make a verdict command
// exit non-zero.
type FailOn string

// The policies.
const (
	// FailOnNotReady fails (ExitNotReady) when any workload is not ready;
	// unknown workloads do not fail.
	FailOnNotReady FailOn = "not-ready"
	// FailOnUnknown fails when any workload is not ready (ExitNotReady) or,
	// failing that, unknown (ExitUnknown). The strictest policy.
	FailOnUnknown FailOn = "unknown"
	// FailOnNever always exits ExitOK.
	FailOnNever FailOn = "never"
)

// Exit codes of a verdict. They equal cli's ExitOK, ExitUnsupported and
// ExitUnknown, so the cli can return them as they are.
const (
	ExitOK       = 0 // nothing the policy fails on
	ExitNotReady = 1 // at least one workload is not ready
	ExitUnknown  = 2 // none is not ready, but at least one is unknown
)

// ParseFailOn reads a --fail-on value.
func ParseFailOn(s string) (FailOn, error) {
	switch f := FailOn(strings.ToLower(strings.TrimSpace(s))); f {
	case FailOnNotReady, FailOnUnknown, FailOnNever:
		return f, nil
	}
	return "", fmt.Errorf("report: unknown --fail-on %q (want not-ready, unknown or never)", s)
}

// ExitCode returns the exit code for r under policy failOn: ExitNotReady
// when a workload is not ready (unless never), ExitUnknown when none is
// but one is unknown and the policy is FailOnUnknown, else ExitOK. An
// unrecognised policy is treated as FailOnUnknown.
func ExitCode(r assess.Report, failOn FailOn) int {
	c := r.Summary.Workloads
	switch {
	case failOn == FailOnNever:
		return ExitOK
	case c.NotReady > 0:
		return ExitNotReady
	case c.Unknown > 0 && failOn != FailOnNotReady:
		return ExitUnknown
	}
	return ExitOK
}
