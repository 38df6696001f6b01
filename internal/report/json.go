package report

import (
	"math"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// SchemaVersion is the version of the JSON schema (JSONReport). It grows
// when a field changes meaning or goes away; new fields do not change it.
// Version 2: target is a list (as in check), and images and containers
// have the image verdicts supported/unsupported/unknown.
const SchemaVersion = 2

// JSONReport is the schema of the json format. Field order is fixed; lists
// are never null; optional fields are left out when empty.
type JSONReport struct {
	// SchemaVersion is SchemaVersion.
	SchemaVersion int `json:"schemaVersion"`
	// Target is the platforms judged against, e.g. ["linux/arm64"]; the
	// same shape in every report archway writes.
	Target []string `json:"target"`
	// Summary counts the verdicts.
	Summary JSONSummary `json:"summary"`
	// Workloads are the workload verdicts, in input order.
	Workloads []JSONWorkload `json:"workloads"`
	// Images are the distinct images, sorted by reference.
	Images []JSONImage `json:"images"`
	// FixFirst are the images to fix first, with advice (WithAdvice only).
	FixFirst []ImageFix `json:"fixFirst,omitempty"`
}

// JSONSummary is the summary object.
type JSONSummary struct {
	Workloads   JSONCounts      `json:"workloads"`
	Containers  JSONImageCounts `json:"containers"` // build containers excluded
	Images      JSONImageCounts `json:"images"`     // images used only by build containers excluded
	ByNamespace []JSONGroup     `json:"byNamespace"`
	BySource    []JSONGroup     `json:"bySource"`
}

// JSONCounts counts verdicts; percentages are rounded to one decimal.
type JSONCounts struct {
	Total           int     `json:"total"`
	Ready           int     `json:"ready"`
	NotReady        int     `json:"notReady"`
	Unknown         int     `json:"unknown"`
	ReadyPercent    float64 `json:"readyPercent"`
	NotReadyPercent float64 `json:"notReadyPercent"`
	UnknownPercent  float64 `json:"unknownPercent"`
	Pinned          int     `json:"pinned"`    // workloads only; 0 for images and containers
	CouldMove       int     `json:"couldMove"` // workloads only; 0 for images and containers
}

// JSONImageCounts counts image verdicts (of distinct images, or of the
// containers that run them).
type JSONImageCounts struct {
	Total              int     `json:"total"`
	Supported          int     `json:"supported"`
	Unsupported        int     `json:"unsupported"`
	Unknown            int     `json:"unknown"`
	SupportedPercent   float64 `json:"supportedPercent"`
	UnsupportedPercent float64 `json:"unsupportedPercent"`
	UnknownPercent     float64 `json:"unknownPercent"`
}

// JSONGroup is the counts of one namespace ("" for none) or source kind.
type JSONGroup struct {
	Key string `json:"key"`
	JSONCounts
}

// JSONWorkload is one workload's verdict.
type JSONWorkload struct {
	ID                  string              `json:"id"` // kind/namespace/name
	Source              workload.SourceKind `json:"source"`
	APIVersion          string              `json:"apiVersion,omitempty"`
	Kind                string              `json:"kind"`
	Namespace           string              `json:"namespace,omitempty"`
	Name                string              `json:"name"`
	Location            *JSONLocation       `json:"location,omitempty"`
	Verdict             assess.Verdict      `json:"verdict"` // ready, not-ready or unknown
	Pinned              bool                `json:"pinned"`
	PinnedArchitectures []string            `json:"pinnedArchitectures,omitempty"`
	CouldMove           bool                `json:"couldMove,omitempty"`
	// CustomResource marks an object with no pod template whose fields
	// name images (its containers are of kind custom-resource).
	CustomResource bool `json:"customResource,omitempty"`
	// Architectures every counted image supports; absent when any is unknown.
	Architectures []string        `json:"architectures,omitempty"`
	Reasons       []string        `json:"reasons"`
	Containers    []JSONContainer `json:"containers"`
	// Proven is the verdict the running pods prove (cluster workloads);
	// Runtime is that evidence.
	Proven  assess.Verdict    `json:"proven,omitempty"`
	Runtime *workload.Runtime `json:"runtime,omitempty"`
	// CPURequestsMilli is the CPU the workload's pods request now.
	CPURequestsMilli int64 `json:"cpuRequestsMilli,omitempty"`
}

// JSONContainer is one container's verdict.
type JSONContainer struct {
	Name     string                 `json:"name"`
	Kind     workload.ContainerKind `json:"kind"` // container, init, sidecar, ephemeral, build, custom-resource
	Image    string                 `json:"image"`
	Location *JSONLocation          `json:"location,omitempty"`
	// Platform is what the container was judged against.
	Platform  string         `json:"platform"`
	Pinned    bool           `json:"pinned,omitempty"` // Platform is the container's own pin
	Counted   bool           `json:"counted"`          // false for build containers
	Verdict   assess.Verdict `json:"verdict"`
	Digest    string         `json:"digest,omitempty"`
	Platforms []string       `json:"platforms"`
	Cause     string         `json:"cause,omitempty"` // why a lookup failed, e.g. "unauthorized"
	Error     string         `json:"error,omitempty"`
	Reason    string         `json:"reason"`
}

// JSONImage is one distinct image's verdict against the target.
type JSONImage struct {
	Ref       string         `json:"ref"`
	Digest    string         `json:"digest,omitempty"`
	Verdict   assess.Verdict `json:"verdict"`
	Platforms []string       `json:"platforms"`
	Cause     string         `json:"cause,omitempty"`
	Error     string         `json:"error,omitempty"`
	Reason    string         `json:"reason"`
	Workloads []string       `json:"workloads"`
	BuildOnly bool           `json:"buildOnly,omitempty"`
}

// JSONLocation is a place in a file; line and column are 1-based.
type JSONLocation struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Approximate is true when the line is only near the place.
	Approximate bool `json:"approximate,omitempty"`
}

// ToJSON converts r to the json format's schema.
func ToJSON(r assess.Report, opts ...Option) JSONReport {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return toJSON(r, o)
}

func toJSON(r assess.Report, o options) JSONReport {
	s := r.Summary
	out := JSONReport{
		SchemaVersion: SchemaVersion,
		Target:        []string{r.Target.String()},
		Summary: JSONSummary{
			Workloads:   jsonCounts(s.Workloads),
			Containers:  jsonImageCounts(s.Containers),
			Images:      jsonImageCounts(s.Images),
			ByNamespace: jsonGroups(s.ByNamespace),
			BySource:    jsonGroups(s.BySource),
		},
		Workloads: []JSONWorkload{},
		FixFirst:  o.fixFirst(r),
		Images:    []JSONImage{},
	}
	for _, wr := range r.Workloads {
		w := wr.Workload
		jw := JSONWorkload{
			ID: w.ID(), Source: w.Source, APIVersion: w.APIVersion, Kind: w.Kind, Namespace: w.Namespace, Name: w.Name,
			Location: o.jsonLocation(w.Location), Verdict: wr.Verdict, Pinned: wr.Pinned,
			PinnedArchitectures: wr.PinnedArchitectures, CouldMove: wr.CouldMove, CustomResource: w.CustomResource,
			Architectures: wr.Architectures,
			Reasons:       nonNil(wr.Reasons), Containers: []JSONContainer{},
			Proven: wr.Proven, Runtime: w.Runtime, CPURequestsMilli: w.CPURequests,
		}
		for _, cr := range wr.Containers {
			c := cr.Container
			jc := JSONContainer{
				Name: c.Name, Kind: c.Kind, Image: c.Image, Location: o.jsonLocation(c.Location),
				Platform: cr.Platform.String(), Pinned: cr.Pinned, Counted: !cr.Build, Verdict: cr.Verdict,
				Digest: cr.Digest, Platforms: platformStrings(cr.Platforms), Cause: string(cr.Cause), Reason: cr.Reason,
			}
			if cr.Err != nil {
				jc.Error = cr.Err.Error()
			}
			jw.Containers = append(jw.Containers, jc)
		}
		out.Workloads = append(out.Workloads, jw)
	}
	for _, iv := range r.Images {
		ji := JSONImage{
			Ref: iv.Ref, Digest: iv.Digest, Verdict: iv.Verdict, Platforms: platformStrings(iv.Platforms()),
			Reason: iv.Reason, Workloads: nonNil(iv.Workloads), BuildOnly: iv.BuildOnly,
		}
		if iv.Err != nil {
			ji.Cause = string(lookup.CauseOf(iv.Err))
			ji.Error = iv.Err.Error()
			ji.Platforms = []string{}
		}
		out.Images = append(out.Images, ji)
	}
	return out
}

func jsonCounts(c assess.Counts) JSONCounts {
	return JSONCounts{
		Total: c.Total, Ready: c.Ready, NotReady: c.NotReady, Unknown: c.Unknown,
		ReadyPercent:    round1(c.Percent(assess.Ready)),
		NotReadyPercent: round1(c.Percent(assess.NotReady)),
		UnknownPercent:  round1(c.Percent(assess.Unknown)),
		Pinned:          c.Pinned, CouldMove: c.CouldMove,
	}
}

func jsonImageCounts(c assess.Counts) JSONImageCounts {
	return JSONImageCounts{
		Total: c.Total, Supported: c.Ready, Unsupported: c.NotReady, Unknown: c.Unknown,
		SupportedPercent:   round1(c.Percent(assess.Supported)),
		UnsupportedPercent: round1(c.Percent(assess.Unsupported)),
		UnknownPercent:     round1(c.Percent(assess.Unknown)),
	}
}

func jsonGroups(gs []assess.Group) []JSONGroup {
	out := []JSONGroup{}
	for _, g := range gs {
		out = append(out, JSONGroup{Key: g.Key, JSONCounts: jsonCounts(g.Counts)})
	}
	return out
}

func (o options) jsonLocation(l workload.Location) *JSONLocation {
	if l.File == "" {
		return nil
	}
	return &JSONLocation{File: o.path(l.File), Line: l.Line, Column: l.Column, Approximate: l.Approximate}
}

func platformStrings(s platform.Set) []string {
	out := []string{}
	for _, p := range s.List() {
		out = append(out, p.String())
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
