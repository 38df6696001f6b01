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

// Exit codes of a verdict, for check, scan and place --check alike; the
// cli returns them as they are.
const (
	ExitOK       = 0 // nothing the policy fails on
	ExitNotReady = 1 // a workload is not ready, or an image unsupported
	ExitUnknown  = 2 // none is, but at least one could not be told
)

// ParseFailOn reads a --fail-on value.
func ParseFailOn(s string) (FailOn, error) {
	switch f := FailOn(strings.ToLower(strings.TrimSpace(s))); f {
	case FailOnNotReady, FailOnUnknown, FailOnNever:
		return f, nil
	}
	return "", fmt.Errorf("unknown --fail-on %q (want not-ready, unknown or never)", s)
}

// ExitCode returns the exit code for a scan report under policy failOn
// (see Exit).
func ExitCode(r assess.Report, failOn FailOn) int { return Exit(r.Summary.Workloads, failOn) }

// CheckExitCode returns the exit code of a check report: a definite "no"
// (unsupported) wins over unknown.
func CheckExitCode(r assess.CheckReport) int { return Exit(r.Summary, FailOnUnknown) }

// Exit is the one exit policy: ExitNotReady when something is known not
// to run on the target (unless never), ExitUnknown when nothing is but
// something could not be told and the policy is FailOnUnknown, else
// ExitOK. An unrecognised policy is treated as FailOnUnknown.
func Exit(c assess.Counts, failOn FailOn) int {
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
