package advisor

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// Registry is what the advisor asks of registries; *registry.Client
// satisfies it.
type Registry interface {
	// Lookup resolves a reference to its platforms.
	Lookup(ctx context.Context, ref string) lookup.Result
	// Digest resolves a tag to its digest with a HEAD.
	Digest(ctx context.Context, ref string) (string, error)
	// ListTags lists a repository's tags.
	ListTags(ctx context.Context, repo name.Repository) (registry.TagList, error)
	// ParseReference reads a reference as lookups do.
	ParseReference(ref string) (name.Reference, error)
}

// How a suggestion was found.
const (
	HowData     = "data"     // the ecosystem data's first arm64 version, checked
	HowHubAPI   = "hub-api"  // the Hub API's per-tag architectures, checked
	HowRegistry = "registry" // manifest lookups at the registry
)

// Kinds of alternative.
const (
	AltArchFree    = "arch-free"    // the tag without its arch token
	AltArchSibling = "arch-sibling" // the same tag built for the target's arch alone
	AltDistro      = "distro-move"  // the same release on a newer distro version
	AltReplacement = "replacement"  // a repository that replaced this one
)

// Advice is what the advisor found for one image.
type Advice struct {
	// Ref is the image as given.
	Ref string `json:"ref"`
	// Verdict is the current tag's verdict, as check gives it.
	Verdict assess.Verdict `json:"verdict"`
	// Reason is the verdict's one line.
	Reason string `json:"reason,omitempty"`
	// Nearest is the lowest tag above the current one in its scheme that
	// supports the target, or nil.
	Nearest *Suggestion `json:"nearest"`
	// Newest is the newest tag in the scheme that supports the target, or
	// nil.
	Newest *Suggestion `json:"newest"`
	// Alternatives are other ways to the target, each labelled.
	Alternatives []Alternative `json:"alternatives"`
	// Candidates is how many tags of the current tag's scheme are above it.
	Candidates int `json:"candidates"`
	// Requests is every registry request the advice spent: tag-list
	// pages, HEADs and manifest lookups.
	Requests int `json:"requests"`
	// Probes is the manifest lookups the search spent (the budgeted ones).
	Probes int `json:"probes"`
	// Budget is the most probes the search may spend: ⌈log₂ candidates⌉+3.
	Budget int `json:"budget"`
	// Notes say what else was learned ("newest lacks arm64 — regression?").
	Notes []string `json:"notes,omitempty"`
	// Project is the ecosystem data's entry for the repository, if any.
	Project *Project `json:"project,omitempty"`
	// Cause is why the advice is unknown, when it is.
	Cause lookup.Cause `json:"cause,omitempty"`
	// Err is the failure behind Cause.
	Err error `json:"-"`
}

// Suggestion is a tag to move to.
type Suggestion struct {
	// Tag is the tag.
	Tag string `json:"tag"`
	// Ref is the full reference.
	Ref string `json:"ref"`
	// Digest is the manifest digest the tag had when checked.
	Digest string `json:"digest"`
	// How is HowData, HowHubAPI or HowRegistry.
	How string `json:"how"`
	// Confirmed is true when the boundary is proven: this tag supports the
	// target and the tag before it in the scheme does not.
	Confirmed bool `json:"confirmed"`
}

// Alternative is a labelled other way: an arch-free or arch-sibling tag,
// a distro move, a replacement repository. Each was checked.
type Alternative struct {
	// Kind is one of the Alt… kinds.
	Kind string `json:"kind"`
	// Label says what the change is, in a few words.
	Label string `json:"label"`
	// Ref is the reference to move to.
	Ref string `json:"ref"`
	// Digest is its manifest digest when checked.
	Digest string `json:"digest"`
}

// Resolved reports whether the advice settles the image: it supports the
// target, or a suggestion is confirmed.
func (a Advice) Resolved() bool {
	return a.Verdict == assess.Supported || (a.Nearest != nil && a.Nearest.Confirmed)
}

// Options configure Advise.
type Options struct {
	// Target is the platform to reach.
	Target platform.Platform
	// Ecosystem is the data to start from; nil for none.
	Ecosystem *Ecosystem
}

// Advise finds, for the image ref, the nearest tag in its scheme that
// supports the target, the newest one, and labelled alternatives, judging
// every tag as check does (assess.JudgeImage) and spending at most
// Budget(candidates) manifest lookups on the search.
func Advise(ctx context.Context, reg Registry, ref string, o Options) Advice {
	a := &adviser{reg: reg, o: o, judged: map[string]bool{}}
	return a.advise(ctx, ref)
}

// adviser is one image's advice in the making.
type adviser struct {
	reg    Registry
	o      Options
	repo   name.Repository
	adv    Advice
	judged map[string]bool // digest → supports
	hub    map[string]registry.Tag
	how    string
	// hubWrong is set when the registry disagreed with the Hub API.
	hubWrong bool
}

func (a *adviser) advise(ctx context.Context, ref string) Advice {
	a.adv = Advice{Ref: ref, Alternatives: []Alternative{}}
	r, err := a.reg.ParseReference(ref)
	if err != nil {
		return a.unknown(err)
	}
	a.repo = r.Context()
	if a.o.Ecosystem != nil {
		if p, ok := a.o.Ecosystem.ForRepo(a.repo.Name()); ok {
			a.adv.Project = &p
		}
	}
	cur := a.reg.Lookup(ctx, ref)
	a.adv.Requests++
	v, reason := assess.JudgeImage(cur, a.o.Target)
	a.adv.Verdict, a.adv.Reason = v, reason
	if v == assess.Unknown {
		if cur.Err != nil {
			return a.unknown(cur.Err)
		}
		a.adv.Cause = lookup.CauseUnknown
		return a.adv
	}
	if v == assess.Supported {
		return a.adv
	}
	if cur.Digest != "" {
		a.judged[cur.Digest] = false
	}
	tag, ok := r.(name.Tag)
	if !ok {
		a.replacement(ctx, "")
		a.note("the image is pinned by digest: no tag to advise from")
		return a.adv
	}
	a.replacement(ctx, tag.TagStr())
	cs, ok := Parse(tag.TagStr())
	if !ok {
		a.note(fmt.Sprintf("%q is not a version (floating, a date or a hash): pin a version tag", tag.TagStr()))
		return a.adv
	}
	list, err := a.reg.ListTags(ctx, a.repo)
	a.adv.Requests += list.Requests
	if err != nil {
		return a.unknown(fmt.Errorf("listing tags: %w", err))
	}
	a.adv.Notes = append(a.adv.Notes, list.Notes...)
	a.how = HowRegistry
	if list.Source == registry.SourceHubAPI {
		a.how = HowHubAPI
		a.hub = map[string]registry.Tag{}
		for _, t := range list.Tags {
			a.hub[t.Name] = t
		}
	}
	names := make([]string, len(list.Tags))
	for i, t := range list.Tags {
		names[i] = t.Name
	}
	if err := a.search(ctx, cs, names); err != nil {
		return a.unknown(err)
	}
	if a.how == HowHubAPI && a.hubWrong {
		// The registry disagreed with the Hub API: search again at the
		// registry alone.
		a.hub, a.how, a.adv.Nearest, a.adv.Newest, a.adv.Probes = nil, HowRegistry, nil, nil, 0
		if err := a.search(ctx, cs, names); err != nil {
			return a.unknown(err)
		}
	}
	a.alternatives(ctx, cs, names)
	return a.adv
}

func (a *adviser) note(s string) { a.adv.Notes = append(a.adv.Notes, s) }

// unknown ends the advice as unknown, with err's cause.
func (a *adviser) unknown(err error) Advice {
	a.adv.Verdict = assess.Unknown
	a.adv.Nearest, a.adv.Newest = nil, nil
	a.adv.Cause = lookup.CauseOf(err)
	if a.adv.Cause == "" {
		a.adv.Cause = lookup.CauseUnknown
	}
	a.adv.Err = err
	return a.adv
}

// Candidates returns the tags of cur's scheme above it, ascending: same
// prefix, suffix family, distro version and number of release parts, with
// the arch slot removed (a tag with an arch token has the arch-free tags
// as candidates: those are the multi-arch ones); pre-releases only when
// cur is one; one tag per version.
func Candidates(cur Scheme, tags []string) []Scheme {
	var out []Scheme
	for _, t := range tags {
		s, ok := Parse(t)
		if !ok || s.Family() != cur.Family() || s.Arch != "" ||
			!slices.Equal(s.DistroVersion, cur.DistroVersion) || (s.Pre != "" && cur.Pre == "") {
			continue
		}
		if Compare(s, cur) > 0 {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, Compare)
	return slices.CompactFunc(out, func(x, y Scheme) bool { return Compare(x, y) == 0 })
}

// search finds the nearest and newest supporting candidates: the newest
// first; then, when the data names a first arm64 version, that one and
// its predecessor; then a gallop and bisection. When the newest lacks the
// target, a bounded scan down finds the newest that has it.
func (a *adviser) search(ctx context.Context, cur Scheme, tags []string) error {
	cs := Candidates(cur, tags)
	n := len(cs)
	a.adv.Candidates, a.adv.Budget = n, Budget(n)
	if n == 0 {
		a.note("no newer tag in the scheme of " + cur.Tag)
		return nil
	}
	digests := make([]string, n)
	p := func(i int) (bool, int, error) {
		ok, d, cost, err := a.judge(ctx, cs[i].Tag)
		digests[i] = d
		return ok, cost, err
	}
	spend := func(cost int) { a.adv.Probes += cost }
	ok, cost, err := p(n - 1)
	spend(cost)
	if err != nil {
		return err
	}
	top := n - 1
	if !ok {
		a.note(fmt.Sprintf("newest %s lacks %s — regression?", cs[n-1].Tag, archOf(a.o.Target)))
		top = -1
		for i := n - 2; i >= 0 && a.adv.Probes < a.adv.Budget; i-- {
			ok, cost, err := p(i)
			spend(cost)
			if err != nil {
				return err
			}
			if ok {
				top = i
				break
			}
		}
		if top < 0 {
			if a.adv.Probes >= a.adv.Budget && n > 1 {
				a.note(fmt.Sprintf("no supporting tag found within the budget (%d probes over %d candidates)", a.adv.Budget, n))
			}
			return nil
		}
	}
	// Every candidate above top was judged: it is the newest with the target.
	a.adv.Newest = a.suggest(cs[top].Tag, digests[top], a.how, true)
	lo, hi, how := -1, top, a.how
	if d := a.dataIndex(cs[:top+1]); d >= 0 && d < top {
		ok, cost, err := p(d)
		spend(cost)
		if err != nil {
			return err
		}
		if !ok {
			lo = d
		} else if hi, how = d, HowData; d > 0 {
			// Confirm the data's boundary: its predecessor must lack it.
			ok, cost, err := p(d - 1)
			spend(cost)
			if err != nil {
				return err
			}
			if ok {
				hi, how = d-1, a.how
			} else {
				lo = d - 1
			}
		}
	}
	first, confirmed, cost, err := bracket(lo, hi, a.adv.Budget-a.adv.Probes, p)
	spend(cost)
	if err != nil {
		return err
	}
	if first != hi {
		how = a.how
	}
	a.adv.Nearest = a.suggest(cs[first].Tag, digests[first], how, confirmed)
	return a.verify(ctx)
}

// dataIndex is the first candidate at or above the ecosystem data's first
// arm64 version, or −1.
func (a *adviser) dataIndex(cs []Scheme) int {
	if a.adv.Project == nil || a.adv.Project.Since == "" {
		return -1
	}
	since, ok := Parse(a.adv.Project.Since)
	if !ok {
		return -1
	}
	for i, c := range cs {
		if compareInts(c.Release, since.Release) > 0 || (compareInts(c.Release, since.Release) == 0 && comparePre(c.Pre, since.Pre) >= 0) {
			return i
		}
	}
	return -1
}

// judge tells whether tag supports the target: from the Hub API's
// platforms (free), from a digest already judged (a HEAD, no pull), or by
// a manifest lookup by digest (one budgeted request).
func (a *adviser) judge(ctx context.Context, tag string) (ok bool, digest string, cost int, err error) {
	ref := a.repo.Tag(tag).String()
	if t, found := a.hub[tag]; found && len(t.Platforms) > 0 {
		res := lookup.Result{Ref: ref, Digest: t.Digest}
		for _, p := range t.Platforms {
			res.Entries = append(res.Entries, lookup.Entry{Platform: p})
		}
		v, _ := assess.JudgeImage(res, a.o.Target)
		return v == assess.Supported, t.Digest, 0, nil
	}
	d, err := a.reg.Digest(ctx, ref)
	a.adv.Requests++
	if err != nil {
		return false, "", 0, fmt.Errorf("%s: %w", ref, err)
	}
	if s, seen := a.judged[d]; seen {
		return s, d, 0, nil
	}
	res := a.reg.Lookup(ctx, a.repo.Digest(d).String())
	a.adv.Requests++
	v, reason := assess.JudgeImage(res, a.o.Target)
	if v == assess.Unknown {
		if res.Err != nil {
			return false, d, 1, fmt.Errorf("%s: %w", ref, res.Err)
		}
		return false, d, 1, &lookup.Error{Ref: ref, Cause: lookup.CauseUnknown, Err: errors.New(reason)}
	}
	a.judged[d] = v == assess.Supported
	return a.judged[d], d, 1, nil
}

func (a *adviser) suggest(tag, digest, how string, confirmed bool) *Suggestion {
	return &Suggestion{Tag: tag, Ref: a.repo.Tag(tag).String(), Digest: digest, How: how, Confirmed: confirmed}
}

// verify checks the Hub API's word with the registry: the nearest and the
// newest are looked up as check looks them up. A disagreement drops the
// suggestion, with a note, and the search is made again at the registry.
func (a *adviser) verify(ctx context.Context) error {
	for _, s := range []**Suggestion{&a.adv.Nearest, &a.adv.Newest} {
		if *s == nil || a.how != HowHubAPI {
			continue
		}
		res := a.reg.Lookup(ctx, (*s).Ref)
		a.adv.Requests++
		v, reason := assess.JudgeImage(res, a.o.Target)
		switch {
		case v == assess.Unknown && res.Err != nil:
			return fmt.Errorf("checking %s: %w", (*s).Ref, res.Err)
		case v != assess.Supported:
			a.note(fmt.Sprintf("the Hub API said %s has %s but the registry says: %s; searched the registry instead", (*s).Tag, a.o.Target, reason))
			*s, a.hubWrong = nil, true
		default:
			(*s).Digest = res.Digest
		}
	}
	return nil
}

// check looks ref up and, when it supports the target, returns its
// digest.
func (a *adviser) check(ctx context.Context, ref string) (string, bool) {
	res := a.reg.Lookup(ctx, ref)
	a.adv.Requests++
	v, _ := assess.JudgeImage(res, a.o.Target)
	return res.Digest, v == assess.Supported
}

// alternatives adds the arch-free and arch-sibling tags of the current
// release and the newest distro version of it, each when it exists and
// supports the target.
func (a *adviser) alternatives(ctx context.Context, cur Scheme, tags []string) {
	have := map[string]bool{}
	for _, t := range tags {
		have[t] = true
	}
	add := func(kind, tag, label string) {
		if !have[tag] || tag == cur.Tag {
			return
		}
		ref := a.repo.Tag(tag).String()
		if d, ok := a.check(ctx, ref); ok {
			a.adv.Alternatives = append(a.adv.Alternatives, Alternative{Kind: kind, Label: label, Ref: ref, Digest: d})
		}
	}
	if cur.Arch != "" {
		add(AltArchFree, cur.WithArch(""), "the tag without its arch token (often the multi-arch one)")
	}
	for _, tok := range ArchTokens(archOf(a.o.Target)) {
		sib := cur.Tag + "-" + tok
		if cur.Arch != "" {
			sib = cur.WithArch(tok)
		}
		if have[sib] {
			add(AltArchSibling, sib, fmt.Sprintf("a single-arch %s build: pin it to %s nodes (kubernetes.io/arch)", archOf(a.o.Target), archOf(a.o.Target)))
			break
		}
	}
	if cur.Distro != "" {
		var best *Scheme
		for _, t := range tags {
			s, ok := Parse(t)
			if !ok || s.Family() != cur.Family() || s.Arch != cur.Arch || !slices.Equal(s.Release, cur.Release) ||
				s.Pre != cur.Pre || compareInts(s.DistroVersion, cur.DistroVersion) <= 0 {
				continue
			}
			if best == nil || Compare(s, *best) > 0 {
				best = &s
			}
		}
		if best != nil {
			add(AltDistro, best.Tag, fmt.Sprintf("the same release on a newer distro: %s → %s", cur.distroText, best.distroText))
		}
	}
}

// replacement adds the repository that replaced this one, when the data
// (or an -arm64/-amd64 name) says so and the registry has the same tag
// (tag; "" for none), or its newest release, with the target.
func (a *adviser) replacement(ctx context.Context, tag string) {
	if a.o.Ecosystem == nil {
		return
	}
	to, rep, ok := a.o.Ecosystem.ReplacementFor(a.repo.Name())
	if !ok {
		return
	}
	toRepo, err := a.reg.ParseReference(to + ":latest")
	if err != nil {
		return
	}
	if rep.Newest {
		tag = ""
	}
	if tag == "" {
		list, err := a.reg.ListTags(ctx, toRepo.Context())
		a.adv.Requests += list.Requests
		if err != nil {
			return
		}
		var best *Scheme
		for _, t := range list.Tags {
			s, ok := Parse(t.Name)
			if ok && s.Pre == "" && len(s.Suffix) == 0 && s.Arch == "" && s.Distro == "" && (best == nil || compareInts(s.Release, best.Release) > 0) {
				best = &s
			}
		}
		if best == nil {
			return
		}
		tag = best.Tag
	}
	ref := toRepo.Context().Tag(tag).String()
	if d, ok := a.check(ctx, ref); ok {
		a.adv.Alternatives = append(a.adv.Alternatives, Alternative{Kind: AltReplacement, Label: rep.Label, Ref: ref, Digest: d})
	}
}

// String is the advice in one line, for logs and tables.
func (s *Suggestion) String() string {
	switch {
	case s == nil:
		return "-"
	case !s.Confirmed:
		return s.Tag + " (unconfirmed)"
	}
	return s.Tag
}

// archOf names p's architecture as arch tokens do: arm64, amd64, arm/v7.
func archOf(p platform.Platform) string {
	if p.Architecture == "arm" && p.Variant != "" {
		return "arm/" + p.Variant
	}
	return p.Architecture
}
