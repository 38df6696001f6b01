package index

import (
	"errors"
	"strings"
)

// ErrCheck is wrapped by every CheckError, for errors.Is.
var ErrCheck = errors.New("index check failed")

// CheckError says why an index was not written: the sources disagree with
// their declared platforms, two entries have one platform, the result does
// not have exactly the expected platforms, or writing it would drop
// platforms the tag has now. Problems lists each finding.
type CheckError struct {
	// Problems are the findings, one sentence each.
	Problems []string
}

func (e *CheckError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return "index check failed:\n  " + strings.Join(e.Problems, "\n  ")
}

// Unwrap returns ErrCheck.
func (e *CheckError) Unwrap() error { return ErrCheck }

// ReadError is a source or the target that could not be read from its
// registry (not found, denied, unreachable, not an image): what it holds is
// unknown, so nothing was written.
type ReadError struct {
	// Ref is the reference that could not be read.
	Ref string
	// Err is why.
	Err error
}

func (e *ReadError) Error() string { return "reading " + e.Ref + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ReadError) Unwrap() error { return e.Err }

// OptionError is an Options value Create cannot act on: a bad reference,
// a digest as the target, annotations on a Docker manifest list.
type OptionError struct {
	// Err says what is wrong.
	Err error
}

func (e *OptionError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *OptionError) Unwrap() error { return e.Err }
