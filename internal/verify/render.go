package verify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Summary counts images by verdict.
type Summary struct {
	// Verified, Mismatch, Missing and Unknown count images of each verdict.
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

// tableFindings is how many findings of one platform the table shows; an
// image of the wrong architecture altogether can have thousands.
const tableFindings = 20

// WriteTable writes results for a person: one block per image, one line
// per platform, its findings indented under it with their cause.
func WriteTable(w io.Writer, results []Result) error {
	bw := bufio.NewWriter(w)
	for _, r := range results {
		fmt.Fprintf(bw, "%s  %s\n", r.Ref, strings.ToUpper(r.Verdict))
		if r.Error != "" {
			fmt.Fprintf(bw, "  cannot tell: %s\n", r.Error)
		}
		for _, p := range r.Platforms {
			fmt.Fprintf(bw, "  %-14s %-9s %s\n", p.Platform, p.Verdict, platformNote(p))
			if p.Error != "" {
				fmt.Fprintf(bw, "    cannot tell: %s\n", p.Error)
			}
			for i, f := range p.Findings {
				if i == tableFindings {
					fmt.Fprintf(bw, "    … and %d more findings (-o json lists them all)\n", len(p.Findings)-i)
					break
				}
				fmt.Fprintf(bw, "    %-8s %-12s %s\n", f.Severity, f.Check, f.Path)
				fmt.Fprintf(bw, "%26s%s\n", "", f.Message)
				if f.Layer >= 0 {
					cause := fmt.Sprintf("layer %d", f.Layer)
					if f.CreatedBy != "" {
						cause += ": " + oneLine(f.CreatedBy, 100)
					}
					fmt.Fprintf(bw, "%26s%s\n", "", cause)
				}
				if f.Owner != "" {
					fmt.Fprintf(bw, "%26sowner: %s\n", "", f.Owner)
				}
			}
		}
	}
	s := Summarize(results)
	fmt.Fprintf(bw, "\n%d verified, %d mismatch, %d missing, %d unknown\n", s.Verified, s.Mismatch, s.Missing, s.Unknown)
	return bw.Flush()
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
	if p.Layers == 1 {
		note = "1 layer"
	}
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
