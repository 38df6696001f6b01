package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Summary counts images by verdict.
type Summary struct {
	Verified int `json:"verified"`
	Mismatch int `json:"mismatch"`
	Missing  int `json:"missing"`
	Unknown  int `json:"unknown"`
}

// Summarize counts results by verdict.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Verdict {
		case Verified:
			s.Verified++
		case Mismatch:
			s.Mismatch++
		case Missing:
			s.Missing++
		default:
			s.Unknown++
		}
	}
	return s
}

// WriteJSON writes results and their summary as one JSON document.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Images  []Result `json:"images"`
		Summary Summary  `json:"summary"`
	}{results, Summarize(results)})
}

// WriteTable writes results for a person: one block per image, one line
// per platform, its findings indented under it with their cause.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t\n", r.Ref, strings.ToUpper(r.Verdict))
		if r.Error != "" {
			fmt.Fprintf(tw, "  cannot tell: %s\t\t\n", r.Error)
		}
		for _, p := range r.Platforms {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Platform, p.Verdict, platformNote(p))
			if p.Error != "" {
				fmt.Fprintf(tw, "    cannot tell: %s\t\t\n", p.Error)
			}
			for _, f := range p.Findings {
				fmt.Fprintf(tw, "    %-7s %s: %s\t\t\n", f.Severity, f.Check, f.Message)
				if f.Layer >= 0 {
					cause := fmt.Sprintf("layer %d", f.Layer)
					if f.CreatedBy != "" {
						cause += ": " + oneLine(f.CreatedBy, 100)
					}
					fmt.Fprintf(tw, "            %s\t\t\n", cause)
				}
				if f.Owner != "" {
					fmt.Fprintf(tw, "            owner: %s\t\t\n", f.Owner)
				}
			}
		}
	}
	s := Summarize(results)
	fmt.Fprintf(tw, "\n%d verified, %d mismatch, %d missing, %d unknown\t\t\n", s.Verified, s.Mismatch, s.Missing, s.Unknown)
	return tw.Flush()
}

// platformNote says what was read and which binaries were found.
func platformNote(p PlatformResult) string {
	if p.Layers == 0 && len(p.Binaries) == 0 {
		return ""
	}
	var parts []string
	for _, arch := range slices.Sorted(maps.Keys(p.Binaries)) {
		parts = append(parts, fmt.Sprintf("%d %s", p.Binaries[arch], arch))
	}
	note := fmt.Sprintf("%d layers", p.Layers)
	if len(parts) > 0 {
		note += "; binaries: " + strings.Join(parts, ", ")
	}
	return note
}

// oneLine squeezes s onto one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// WriteLintJSON writes Dockerfile lint findings as JSON.
func WriteLintJSON(w io.Writer, findings []LintFinding) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if findings == nil {
		findings = []LintFinding{}
	}
	return enc.Encode(struct {
		Findings []LintFinding `json:"findings"`
	}{findings})
}

// WriteLintTable writes Dockerfile lint findings for a person, each with
// its instruction and suggested rewrite.
func WriteLintTable(w io.Writer, findings []LintFinding) error {
	for _, f := range findings {
		fmt.Fprintf(w, "%s:%d: %s [%s] %s\n", f.File, f.Line, f.Severity, f.Rule, f.Message)
		fmt.Fprintf(w, "    %s\n", oneLine(f.Instruction, 200))
		if f.Suggestion != "" {
			fmt.Fprintf(w, "  suggestion:\n")
			for _, l := range strings.Split(f.Suggestion, "\n") {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
	_, err := fmt.Fprintf(w, "%d findings\n", len(findings))
	return err
}
