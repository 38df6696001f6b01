package kube

import "github.com/archwaydev/archway/internal/manifest"

// Error is a problem with one document or object of an input: the file (or
// display name) and the 1-based line where it was found, zero when unknown.
type Error = manifest.Error

// Errors splits an error returned by this package (or by a reader built on
// it) into its parts, in input order, flattening nested joins; nil gives
// nil. An error that is not itself a join is returned as the only part.
func Errors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Errors(e)...)
		}
		return out
	}
	return []error{err}
}
