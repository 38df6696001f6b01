package app

import (
	"context"
	"sync"

	"github.com/archwaydev/archway/internal/advisor"
	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/report"
)

// AdviseOptions configure Advise.
type AdviseOptions struct {
	// Target is the platform each image should reach.
	Target platform.Platform
	// Ecosystem is the ecosystem data (advisor.LoadEcosystem); nil for the
	// embedded data alone.
	Ecosystem *advisor.Ecosystem
	// Jobs is how many images are advised at once; at least 1.
	Jobs int
}

// AdviseResult is the advice for every image, in the order given.
type AdviseResult struct {
	// Target is the platform advised for.
	Target platform.Platform `json:"target"`
	// Images are the advice, one per image.
	Images []advisor.Advice `json:"images"`
}

// Advise advises every distinct image once, Jobs at a time, and returns
// the advice in the order refs were given.
func Advise(ctx context.Context, reg advisor.Registry, refs []string, o AdviseOptions) AdviseResult {
	jobs := max(o.Jobs, 1)
	if o.Ecosystem == nil {
		// The embedded data always loads: a test reads it.
		o.Ecosystem, _ = advisor.LoadEcosystem()
	}
	byRef := map[string]*advisor.Advice{}
	var distinct []string
	for _, r := range refs {
		if _, ok := byRef[r]; !ok {
			byRef[r] = nil
			distinct = append(distinct, r)
		}
	}
	out := make([]advisor.Advice, len(distinct))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, r := range distinct {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = advisor.Advise(ctx, reg, r, advisor.Options{Target: o.Target, Ecosystem: o.Ecosystem})
		}()
	}
	wg.Wait()
	for i, r := range distinct {
		byRef[r] = &out[i]
	}
	res := AdviseResult{Target: o.Target, Images: make([]advisor.Advice, len(refs))}
	for i, r := range refs {
		res.Images[i] = *byRef[r]
	}
	return res
}

// AdviseExitCode is advise's exit status: report.ExitOK when every image
// supports the target or has a confirmed suggestion, report.ExitNotReady
// when one has none, else report.ExitUnknown when one could not be told.
func AdviseExitCode(r AdviseResult) int {
	var c assess.Counts
	for _, a := range r.Images {
		switch {
		case a.Verdict == assess.Unknown:
			c.Unknown++
		case !a.Resolved():
			c.NotReady++
		}
	}
	return report.Exit(c, report.FailOnUnknown)
}

// AdviseReport advises every image that lacks the target in a scan
// report (build-only images aside) and returns one line of advice per
// image reference, for report.WithAdvice, with the advice itself.
func AdviseReport(ctx context.Context, reg advisor.Registry, rep assess.Report, o AdviseOptions) (map[string]string, AdviseResult) {
	var refs []string
	for _, im := range rep.Images {
		if im.Verdict == assess.Unsupported && !im.BuildOnly {
			refs = append(refs, im.Ref)
		}
	}
	res := Advise(ctx, reg, refs, o)
	lines := make(map[string]string, len(refs))
	for _, a := range res.Images {
		lines[a.Ref] = advisor.OneLine(a)
	}
	return lines, res
}

// AdviseCheck advises every image a check found unsupported.
func AdviseCheck(ctx context.Context, reg advisor.Registry, rep assess.CheckReport, o AdviseOptions) AdviseResult {
	var refs []string
	for _, im := range rep.Images {
		if im.Verdict == assess.Unsupported {
			refs = append(refs, im.Ref)
		}
	}
	return Advise(ctx, reg, refs, o)
}
