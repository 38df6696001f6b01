package app

import (
	"context"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
)

// CheckOptions configure Check.
type CheckOptions struct {
	// Targets are the platforms every image must support.
	Targets []platform.Platform
	// Jobs is how many lookups run at once; at least 1.
	Jobs int
	// Progress, when set, is called as lookups finish.
	Progress func(lookup.Progress)
}

// Check looks refs up (each distinct one once) and judges each against
// every target, in the order given.
func Check(ctx context.Context, l Lookuper, refs []string, o CheckOptions) assess.CheckReport {
	return assess.Check(lookup.All(ctx, l.Lookup, refs, o.Jobs, o.Progress), o.Targets...)
}
