// Package app is archway's application layer: one operation per command
// (Check, Scan, Place, ...), each joining the stages below it — sources,
// the registry lookup, assess, placement, rewrite — into the whole job a
// command does. The CLI, the demo, the benchmarks and the tests call these
// operations, so what they run is what a user runs; commands only turn
// flags into options, call one operation and render its result.
//
// Operations take the registry through the small Lookuper interface, so
// tests can count or fake nothing: they pass a real registry.Client.
package app

import (
	"context"

	"github.com/archwaydev/archway/internal/lookup"
)

// Lookuper is what the operations need from the registry;
// *registry.Client is one.
type Lookuper interface {
	Lookup(ctx context.Context, ref string) lookup.Result
}
