package advisor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/platform"
)

// WriteJSON writes the advice as one JSON document: the target and one
// object per image (ref, verdict, nearest, newest, alternatives,
// requests, cause).
func WriteJSON(w io.Writer, target platform.Platform, as []Advice) error {
	doc := struct {
		Target string   `json:"target"`
		Images []Advice `json:"images"`
	}{target.String(), as}
	if doc.Images == nil {
		doc.Images = []Advice{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteTable writes the advice as a table, one row per image, with its
// alternatives and notes indented under it.
func WriteTable(w io.Writer, target platform.Platform, as []Advice) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "IMAGE\tVERDICT (%s)\tNEAREST\tNEWEST\tHOW\tREQUESTS\n", target)
	for _, a := range as {
		how := "-"
		if a.Nearest != nil {
			how = a.Nearest.How
		}
		verdict := string(a.Verdict)
		if a.Verdict == assess.Unknown {
			verdict += " (" + string(a.Cause) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", a.Ref, verdict, a.Nearest.String(), a.Newest.String(), how, a.Requests)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, a := range as {
		var lines []string
		if a.Err != nil {
			lines = append(lines, "could not be told: "+a.Err.Error())
		}
		if a.Nearest != nil {
			lines = append(lines, fmt.Sprintf("move to %s (%s)", a.Nearest.Ref, confirmedText(a.Nearest)))
		}
		for _, alt := range a.Alternatives {
			lines = append(lines, fmt.Sprintf("or %s: %s (%s)", alt.Kind, alt.Ref, alt.Label))
		}
		if a.Project != nil && a.Project.Notes != "" {
			lines = append(lines, fmt.Sprintf("%s: %s (%s)", a.Project.Project, a.Project.Notes, a.Project.Link))
		}
		lines = append(lines, a.Notes...)
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", a.Ref)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	return nil
}

func confirmedText(s *Suggestion) string {
	if s.Confirmed {
		return "confirmed: the tag before it lacks the target"
	}
	return "unconfirmed: the boundary was not proven within the budget"
}

// Summary is one line: how many images support the target, have a
// confirmed suggestion, have none, or could not be told.
func Summary(as []Advice) string {
	var ok, moved, none, unknown int
	for _, a := range as {
		switch {
		case a.Verdict == assess.Supported:
			ok++
		case a.Verdict == assess.Unknown:
			unknown++
		case a.Resolved():
			moved++
		default:
			none++
		}
	}
	parts := []string{fmt.Sprintf("%d supported", ok), fmt.Sprintf("%d with a confirmed move", moved), fmt.Sprintf("%d without one", none)}
	if unknown > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown", unknown))
	}
	return strings.Join(parts, ", ")
}

// OneLine is the advice in one line, for reports: the move, else the
// first alternative, else why there is none.
func OneLine(a Advice) string {
	switch {
	case a.Verdict == assess.Supported:
		return "supported already"
	case a.Verdict == assess.Unknown:
		return "could not be told (" + string(a.Cause) + ")"
	case a.Nearest != nil:
		s := "move to " + a.Nearest.Ref
		if !a.Nearest.Confirmed {
			s += " (unconfirmed)"
		}
		if a.Newest != nil && a.Newest.Tag != a.Nearest.Tag {
			s += "; newest with it: " + a.Newest.Tag
		}
		return s
	case len(a.Alternatives) > 0:
		return "no newer tag has it; " + a.Alternatives[0].Kind + ": " + a.Alternatives[0].Ref + " (" + a.Alternatives[0].Label + ")"
	case len(a.Notes) > 0:
		return "no tag to move to: " + a.Notes[len(a.Notes)-1]
	}
	return "no tag to move to"
}
