package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/workload"
)

// SARIF rule ids.
const (
	RuleImageLacksPlatform = "archway/image-lacks-platform"
	RuleImageUnknown       = "archway/image-unknown"
	RulePinCouldMove       = "archway/pin-could-move"
)

// The subset of SARIF 2.1.0 archway writes.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifText          `json:"shortDescription"`
		FullDescription      sarifText          `json:"fullDescription"`
		Help                 sarifText          `json:"help"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID     string          `json:"ruleId"`
		RuleIndex  int             `json:"ruleIndex"`
		Level      string          `json:"level"`
		Message    sarifText       `json:"message"`
		Locations  []sarifLocation `json:"locations"`
		Properties map[string]any  `json:"properties,omitempty"`
	}
	sarifLocation struct {
		Message          *sarifText     `json:"message,omitempty"`
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

func sarifRules(target string) []sarifRule {
	return []sarifRule{
		{
			ID: RuleImageLacksPlatform, Name: "ImageLacksPlatform",
			ShortDescription: sarifText{"Image does not support the target platform"},
			FullDescription: sarifText{"The registry lists the image's platforms and none of them runs on " + target +
				"; a pod using it cannot be scheduled on such nodes."},
			Help: sarifText{"Upgrade to a tag that is published for " + target + ", build a multi-arch image, " +
				"or keep the workload on nodes it can run on."},
			DefaultConfiguration: sarifConfiguration{"error"},
		},
		{
			ID: RuleImageUnknown, Name: "ImageUnknown",
			ShortDescription: sarifText{"Image platforms could not be looked up"},
			FullDescription: sarifText{"The registry lookup failed, so whether the image supports " + target +
				" is unknown; the message gives the cause."},
			Help:                 sarifText{"Fix the cause (credentials, reference, network) and run archway again."},
			DefaultConfiguration: sarifConfiguration{"warning"},
		},
		{
			ID: RulePinCouldMove, Name: "PinCouldMove",
			ShortDescription: sarifText{"Workload is pinned away from a platform all its images support"},
			FullDescription: sarifText{"The workload constrains kubernetes.io/arch (or its platform) to exclude " + target +
				", although every image it runs supports " + target + "."},
			Help:                 sarifText{"Allow " + target + " in the workload's kubernetes.io/arch node affinity or nodeSelector."},
			DefaultConfiguration: sarifConfiguration{"note"},
		},
	}
}

func renderSARIF(w io.Writer, r assess.Report, o options) error {
	target := r.Target.String()
	rules := sarifRules(target)
	index := map[string]int{}
	for i, rule := range rules {
		index[rule.ID] = i
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "archway", Version: o.toolVersion,
			InformationURI: "https://github.com/archwaydev/archway", Rules: rules,
		}},
		Results: []sarifResult{},
	}
	seen := map[string]bool{}
	add := func(ruleID, level, msg string, wr assess.WorkloadResult, l workload.Location, props map[string]any) {
		loc := o.sarifLocation(l, wr.Workload)
		// One result per image per place it is written, however many
		// workloads share that place (a Helm template, say).
		key := fmt.Sprint(ruleID, "\x00", props["image"], "\x00")
		if pl := loc.PhysicalLocation; pl != nil {
			key += pl.ArtifactLocation.URI
			if pl.Region != nil {
				key += fmt.Sprintf(":%d:%d", pl.Region.StartLine, pl.Region.StartColumn)
			}
		} else {
			key += wr.Workload.ID()
		}
		if seen[key] {
			return
		}
		seen[key] = true
		run.Results = append(run.Results, sarifResult{
			RuleID: ruleID, RuleIndex: index[ruleID], Level: level, Message: sarifText{msg},
			Locations: []sarifLocation{loc}, Properties: props,
		})
	}
	for _, wr := range r.Workloads {
		id := wr.Workload.ID()
		for _, cr := range wr.Containers {
			if cr.Build {
				continue
			}
			c := cr.Container
			props := map[string]any{"workload": id, "container": c.Name, "containerKind": string(c.Kind), "image": c.Image}
			switch cr.Verdict {
			case assess.Unsupported:
				props["platforms"] = platformStrings(cr.Platforms)
				add(RuleImageLacksPlatform, "error", fmt.Sprintf(
					"Image %s (%s %s of %s) does not support %s; it supports %s.",
					c.Image, c.Kind, c.Name, id, cr.Platform, cr.Platforms), wr, c.Location, props)
			case assess.Unknown:
				if cr.Cause != "" {
					props["cause"] = cr.Cause
				}
				add(RuleImageUnknown, "warning", fmt.Sprintf(
					"Could not tell whether image %s (%s %s of %s) supports %s: %s.",
					c.Image, c.Kind, c.Name, id, cr.Platform, cr.Reason), wr, c.Location, props)
			}
		}
		if wr.CouldMove {
			add(RulePinCouldMove, "note", fmt.Sprintf("%s is %s, but every image it runs supports %s.",
				id, pinNote(wr, r), target), wr, wr.Workload.Location,
				map[string]any{"workload": id, "pinnedArchitectures": wr.PinnedArchitectures})
		}
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// sarifLocation points at l when it names a file (falling back to the
// workload's own location), with the workload as a logical location.
// Relative paths are relative to %SRCROOT%; absolute ones become file URIs.
func (o options) sarifLocation(l workload.Location, w workload.Workload) sarifLocation {
	if l.File == "" {
		l = w.Location
	}
	loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: w.Name, FullyQualifiedName: w.ID(), Kind: "module"}}}
	if l.File == "" {
		return loc
	}
	p := o.path(l.File)
	art := sarifArtifact{URI: uriPath(p), URIBaseID: "%SRCROOT%"}
	if strings.HasPrefix(p, "/") {
		art = sarifArtifact{URI: (&url.URL{Scheme: "file", Path: p}).String()}
	}
	loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: art}
	if l.Line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: l.Line, StartColumn: l.Column}
	}
	if l.Approximate {
		loc.Message = &sarifText{"The line is approximate: the file writes the image through a template or a transformer."}
	}
	return loc
}

// uriPath escapes a relative slash path for a URI reference.
func uriPath(p string) string {
	return (&url.URL{Path: strings.TrimPrefix(p, "./")}).String()
}
