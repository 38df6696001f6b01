package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
)

// CheckJSON is the schema of `archway check -o json` (see README.md).
// Every key is always present; fields that do not apply are empty strings
// or empty arrays.
type CheckJSON struct {
	Target  []string         `json:"target"`
	Images  []CheckJSONImage `json:"images"`
	Summary CheckJSONSummary `json:"summary"`
}

// CheckJSONImage is one image's line of the check report.
type CheckJSONImage struct {
	Ref       string              `json:"ref"`
	Name      string              `json:"name"`
	Digest    string              `json:"digest"`
	Kind      string              `json:"kind"`
	Platforms []CheckJSONPlatform `json:"platforms"`
	Verdict   assess.Verdict      `json:"verdict"` // supported, unsupported or unknown
	Cause     string              `json:"cause"`
	Error     string              `json:"error"`
}

// CheckJSONPlatform is one platform of an image and its manifest's digest.
type CheckJSONPlatform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
	OSVersion    string `json:"os.version,omitempty"`
	Digest       string `json:"digest"`
}

// CheckJSONSummary counts the image verdicts, and says what the lookups
// spent per registry host.
type CheckJSONSummary struct {
	Supported   int                    `json:"supported"`
	Unsupported int                    `json:"unsupported"`
	Unknown     int                    `json:"unknown"`
	Registries  []lookup.RegistryStats `json:"registries"`
}

// ToCheckJSON converts r, and what its lookups spent, to the check JSON
// schema.
func ToCheckJSON(r assess.CheckReport, spent ...lookup.RegistryStats) CheckJSON {
	out := CheckJSON{Target: platformNames(r.Targets), Images: make([]CheckJSONImage, len(r.Images)),
		Summary: CheckJSONSummary{Supported: r.Summary.Ready, Unsupported: r.Summary.NotReady, Unknown: r.Summary.Unknown,
			Registries: append([]lookup.RegistryStats{}, spent...)}}
	for i, ic := range r.Images {
		ji := CheckJSONImage{Ref: ic.Ref, Name: ic.Name, Digest: ic.Digest, Kind: string(ic.Kind),
			Platforms: []CheckJSONPlatform{}, Verdict: ic.Verdict, Cause: ic.Cause}
		for _, e := range ic.Entries {
			ji.Platforms = append(ji.Platforms, CheckJSONPlatform{OS: e.Platform.OS, Architecture: e.Platform.Architecture,
				Variant: e.Platform.Variant, OSVersion: e.Platform.OSVersion, Digest: e.Digest})
		}
		if ic.Err != nil {
			ji.Error = ic.Err.Error()
		}
		out.Images[i] = ji
	}
	return out
}

// RenderCheck writes a check report as JSON or as a table (verbose adds a
// row per platform with its manifest digest, and a table of what was spent
// per registry); any other format is an error. spent is what the lookups
// spent per registry host (JSON: summary.registries).
func RenderCheck(w io.Writer, format Format, r assess.CheckReport, verbose bool, spent ...lookup.RegistryStats) error {
	switch format {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ToCheckJSON(r, spent...))
	case Table:
		return checkTable(w, r, verbose, spent)
	}
	return fmt.Errorf("check reports are table or json, not %s", format)
}

func checkTable(w io.Writer, r assess.CheckReport, verbose bool, spent []lookup.RegistryStats) error {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tDIGEST\tKIND\tPLATFORMS\tVERDICT\tCAUSE")
	for _, ic := range r.Images {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ic.Ref, orDash(shortDigest(ic.Digest)), orDash(string(ic.Kind)),
			orDash(ic.Platforms().String()), ic.Verdict, ic.Cause)
		if verbose {
			for _, e := range ic.Entries {
				pl := platform.Platform{OS: e.Platform.OS, Architecture: e.Platform.Architecture, Variant: e.Platform.Variant}
				fmt.Fprintf(tw, "\t%s\t\t  %s\t\t\n", shortDigest(e.Digest), pl)
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
	s, n := r.Summary, len(r.Images)
	fmt.Fprintf(w, "\n%d %s checked for %s: %d supported, %d unsupported, %d unknown\n",
		n, plural(n, "image"), strings.Join(platformNames(r.Targets), " + "), s.Ready, s.NotReady, s.Unknown)
	if verbose && len(spent) > 0 {
		if err := registryTable(w, spent); err != nil {
			return err
		}
	}
	if s.Unknown == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nCould not tell %d %s:\n", s.Unknown, plural(s.Unknown, "image"))
	causes := map[string]int{}
	var order []string
	for _, ic := range r.Images {
		if ic.Verdict != assess.Unknown {
			continue
		}
		msg := ""
		if ic.Err != nil {
			msg = ic.Err.Error()
		} else {
			msg = ic.Ref + ": " + ic.Cause
		}
		fmt.Fprintf(w, "  %s\n", msg)
		if causes[ic.Cause] == 0 {
			order = append(order, ic.Cause)
		}
		causes[ic.Cause]++
	}
	writeHints(w, causes, order)
	_, err := fmt.Fprintln(w)
	return err
}

// registryTable writes what was spent per registry: requests, manifest
// GETs (pulls), HEADs, lookups refused for the quota, the quota as last
// seen and the circuit breaker.
func registryTable(w io.Writer, spent []lookup.RegistryStats) error {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGISTRY\tREQUESTS\tPULLS\tHEADS\tRATE LIMITED\tQUOTA\tBREAKER")
	for _, st := range spent {
		breaker := string(st.Breaker)
		if st.BreakerTrips > 0 {
			breaker += fmt.Sprintf(" (%d %s)", st.BreakerTrips, plural(st.BreakerTrips, "trip"))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", st.Registry, st.Requests, st.Pulls, st.Heads, st.RateLimited, st.Quota, breaker)
	}
	return tw.Flush()
}

// writeHints prints each cause's hint once, with how many images it
// concerns.
func writeHints(w io.Writer, causes map[string]int, order []string) {
	for _, c := range order {
		h := Hint(lookup.Cause(c))
		if h == "" {
			continue
		}
		n := causes[c]
		fmt.Fprintf(w, "  hint (%s, %d %s): %s\n", c, n, plural(n, "image"), h)
	}
}

// Hint suggests what to do about a failed lookup of the given cause; ""
// when there is nothing to suggest.
func Hint(c lookup.Cause) string {
	switch c {
	case lookup.CauseNotFound:
		return "check the repository and tag; a private repository may also answer \"not found\" without credentials"
	case lookup.CauseUnauthorized:
		return "log in (docker login, a credential helper in ~/.docker/config.json) or pass --username with --password-stdin"
	case lookup.CauseRateLimited:
		return "the registry is throttling or its pull quota is used up; log in to raise the limit, use a mirror (--registry-mirror), or retry later (cached results are reused)"
	case lookup.CauseTimeout:
		return "the registry was too slow; raise --timeout, or retry later (cached results are reused)"
	case lookup.CauseNetwork:
		return "check the host name and your network; for a plain-HTTP registry add --insecure-registry HOST"
	case lookup.CauseServerError:
		return "the registry failed; retry later"
	case lookup.CauseUnavailable:
		return "the registry failed repeatedly, so it was not asked again; retry later"
	case "no platforms":
		return "the image lists no platform; it may be an artifact rather than an image"
	case assess.NoRunnablePlatform:
		return "the index lists only attestations, signatures or other artifacts: no image to run; check the tag"
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

func platformNames(ps []platform.Platform) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
