package lookup

import (
	"errors"
	"fmt"
)

// Cause classifies why a lookup failed.
type Cause string

// The causes of a failed lookup.
const (
	CauseBadReference   Cause = "bad reference"        // the reference does not parse
	CauseNotFound       Cause = "not found"            // the repository or tag does not exist
	CauseUnauthorized   Cause = "unauthorized"         // credentials missing or refused
	CauseRateLimited    Cause = "rate limited"         // 429 after retries, or the pull quota is used up
	CauseTimeout        Cause = "timeout"              // a request or the overall deadline expired
	CauseBadManifest    Cause = "bad manifest"         // unparsable, unknown media type, missing platform
	CauseDigestMismatch Cause = "digest mismatch"      // content does not match its digest
	CauseTooLarge       Cause = "too large"            // manifest or config over the size cap
	CauseServerError    Cause = "server error"         // 5xx after retries
	CauseNetwork        Cause = "network"              // connection refused, reset, DNS, TLS
	CauseUnavailable    Cause = "registry unavailable" // the registry's circuit breaker is open
	CauseBusy           Cause = "busy"                 // too many lookups in flight: not started
	CauseUnknown        Cause = "unknown"              // anything else
)

// Error is a failed lookup of one reference.
type Error struct {
	Ref        string
	Cause      Cause
	StatusCode int // HTTP status, when the registry answered
	Err        error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Ref, e.Cause)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// CauseOf returns the Cause of err, or CauseUnknown when err is not a *Error.
func CauseOf(err error) Cause {
	var e *Error
	if errors.As(err, &e) {
		return e.Cause
	}
	return CauseUnknown
}
