package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

// The verdicts of archway check.
const (
	verdictSupported   = "supported"
	verdictUnsupported = "unsupported"
	verdictUnknown     = "unknown"
)

// checkReport is archway check's result; its JSON form is the documented
// schema of `archway check -o json` (see README.md). Every key is always
// present; fields that do not apply are empty strings or empty arrays.
type checkReport struct {
	Target  []string       `json:"target"`
	Images  []imageVerdict `json:"images"`
	Summary checkSummary   `json:"summary"`
}

// imageVerdict is one image's line of the report.
type imageVerdict struct {
	Ref       string          `json:"ref"`
	Name      string          `json:"name"`
	Digest    string          `json:"digest"`
	Kind      string          `json:"kind"`
	Platforms []platformEntry `json:"platforms"`
	Verdict   string          `json:"verdict"`
	Cause     string          `json:"cause"`
	Error     string          `json:"error"`

	set platform.Set // the distinct platforms, for the table
}

// platformEntry is one platform of an image and its manifest's digest.
type platformEntry struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
	OSVersion    string `json:"os.version,omitempty"`
	Digest       string `json:"digest"`
}

// checkSummary counts the verdicts, and what was spent per registry.
type checkSummary struct {
	Supported   int                      `json:"supported"`
	Unsupported int                      `json:"unsupported"`
	Unknown     int                      `json:"unknown"`
	Registries  []registry.RegistryStats `json:"registries"`
}

// newCheckReport judges each lookup result against every target platform.
func newCheckReport(targets []platform.Platform, results []registry.Result) checkReport {
	rep := checkReport{Target: make([]string, len(targets)), Images: make([]imageVerdict, len(results)),
		Summary: checkSummary{Registries: []registry.RegistryStats{}}}
	for i, t := range targets {
		rep.Target[i] = t.String()
	}
	for i, r := range results {
		v := judgeImage(targets, r)
		switch v.Verdict {
		case verdictSupported:
			rep.Summary.Supported++
		case verdictUnsupported:
			rep.Summary.Unsupported++
		default:
			rep.Summary.Unknown++
		}
		rep.Images[i] = v
	}
	return rep
}

// judgeImage gives one result's verdict: unknown when the lookup failed or
// found no platforms, supported when every target is satisfied, else
// unsupported with the missing targets as the cause.
func judgeImage(targets []platform.Platform, r registry.Result) imageVerdict {
	v := imageVerdict{Ref: r.Ref, Name: r.Name, Digest: r.Digest, Kind: string(r.Kind), Platforms: []platformEntry{}, set: r.Platforms()}
	for _, e := range r.Entries {
		v.Platforms = append(v.Platforms, platformEntry{
			OS: e.Platform.OS, Architecture: e.Platform.Architecture, Variant: e.Platform.Variant,
			OSVersion: e.Platform.OSVersion, Digest: e.Digest,
		})
	}
	switch {
	case r.Err != nil:
		v.Verdict, v.Cause, v.Error = verdictUnknown, string(registry.CauseOf(r.Err)), r.Err.Error()
	case v.set.Len() == 0:
		v.Verdict, v.Cause = verdictUnknown, "no platforms"
	default:
		var missing []string
		for _, t := range targets {
			if !v.set.Supports(t) {
				missing = append(missing, t.String())
			}
		}
		v.Verdict = verdictSupported
		if len(missing) > 0 {
			v.Verdict, v.Cause = verdictUnsupported, "no "+strings.Join(missing, ", no ")
		}
	}
	return v
}

// exitCode is the report's exit status: ExitUnsupported when any image
// lacks a target platform (a definite "no" wins, as in scan), else
// ExitUnknown when any image could not be told, else ExitOK.
func (r checkReport) exitCode() int {
	switch {
	case r.Summary.Unsupported > 0:
		return ExitUnsupported
	case r.Summary.Unknown > 0:
		return ExitUnknown
	default:
		return ExitOK
	}
}

// writeJSON writes the report as indented JSON.
func (r checkReport) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable writes the report as an aligned table, a summary line, and for
// each image that could not be told, its error and a hint. verbose adds a
// row per platform with its manifest digest.
func (r checkReport) writeTable(w io.Writer, verbose bool) error {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tDIGEST\tKIND\tPLATFORMS\tVERDICT\tCAUSE")
	for _, v := range r.Images {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Ref, orDash(shortDigest(v.Digest)), orDash(v.Kind),
			orDash(v.set.String()), v.Verdict, v.Cause)
		if verbose {
			for _, p := range v.Platforms {
				pl := platform.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
				fmt.Fprintf(tw, "\t%s\t\t  %s\t\t\n", shortDigest(p.Digest), pl)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	s := r.Summary
	fmt.Fprintf(w, "\n%d %s checked for %s: %d supported, %d unsupported, %d unknown\n",
		len(r.Images), plural(len(r.Images), "image", "images"), strings.Join(r.Target, " + "), s.Supported, s.Unsupported, s.Unknown)
	if verbose && len(s.Registries) > 0 {
		if err := writeRegistryTable(w, s.Registries); err != nil {
			return err
		}
	}
	if s.Unknown == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nCould not tell %d %s:\n", s.Unknown, plural(s.Unknown, "image", "images"))
	for _, v := range r.Images {
		if v.Verdict != verdictUnknown {
			continue
		}
		msg := v.Error
		if msg == "" {
			msg = v.Ref + ": " + v.Cause
		}
		fmt.Fprintf(w, "  %s\n", msg)
		if h := hint(registry.Cause(v.Cause)); h != "" {
			fmt.Fprintf(w, "    hint: %s\n", h)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// writeRegistryTable writes what was spent per registry: requests,
// manifest GETs (pulls), HEADs, the quota as last seen and the breaker.
func writeRegistryTable(w io.Writer, stats []registry.RegistryStats) error {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGISTRY\tREQUESTS\tPULLS\tHEADS\tRATE LIMITED\tQUOTA\tBREAKER")
	for _, st := range stats {
		breaker := string(st.Breaker)
		if st.BreakerTrips > 0 {
			breaker += fmt.Sprintf(" (%d %s)", st.BreakerTrips, plural(st.BreakerTrips, "trip", "trips"))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", st.Registry, st.Requests, st.Pulls, st.Heads, st.RateLimited, st.Quota, breaker)
	}
	return tw.Flush()
}

// hint suggests what to do about a failed lookup.
func hint(c registry.Cause) string {
	switch c {
	case registry.CauseNotFound:
		return "check the repository and tag; a private repository may also answer \"not found\" without credentials"
	case registry.CauseUnauthorized:
		return "log in (docker login, a credential helper in ~/.docker/config.json) or pass --username with --password-stdin"
	case registry.CauseRateLimited:
		return "the registry is throttling or its pull quota is used up; log in to raise the limit, use --registry-mirror, or retry later (cached results are reused)"
	case registry.CauseUnavailable:
		return "the registry failed repeatedly, so it was not asked again; retry later"
	case registry.CauseTimeout:
		return "the registry was too slow; raise --timeout or lower --jobs"
	case registry.CauseNetwork:
		return "check the host name and your network; for a plain-HTTP registry add --insecure-registry HOST"
	case registry.CauseServerError:
		return "the registry failed; retry later"
	case "no platforms":
		return "the image lists no platform; it may be an artifact rather than an image"
	}
	return ""
}

// shortDigest shortens sha256:abcdef... to sha256: and 12 hex digits.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
