package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/archwaydev/archway/internal/assess"
)

// renderJSON writes the json format: what encoding/json writes for the
// whole JSONReport indented by two spaces, but with the workloads and the
// images encoded one at a time, so that a report of 100,000 workloads is
// never one buffer in memory (and a second one to indent it).
func renderJSON(w io.Writer, r assess.Report, o options) error {
	rep := toJSON(r, o)
	workloads, images := rep.Workloads, rep.Images
	rep.Workloads, rep.Images = []JSONWorkload{}, []JSONImage{}
	var head bytes.Buffer
	if err := jsonEncoder(&head, "").Encode(rep); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	rest, err := streamList(bw, head.Bytes(), "workloads", workloads)
	if err == nil {
		rest, err = streamList(bw, rest, "images", images)
	}
	if err != nil {
		return err
	}
	if _, err := bw.Write(rest); err != nil {
		return err
	}
	return bw.Flush()
}

// jsonEncoder encodes as the json format does: two spaces of indent after
// prefix, no HTML escapes.
func jsonEncoder(w io.Writer, prefix string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	return enc
}

// streamList writes head, the report encoded with the top-level list name
// empty, up to that list's "[", then items as encoding/json would place
// them, and returns the rest of head (from the list's "]").
func streamList[T any](w *bufio.Writer, head []byte, name string, items []T) ([]byte, error) {
	empty := []byte("\n  \"" + name + "\": []") // two spaces: a top-level field
	i := bytes.Index(head, empty)
	if i < 0 {
		return nil, fmt.Errorf("json report: no top-level %s list", name)
	}
	at := i + len(empty) - 1 // the "]"
	if _, err := w.Write(head[:at]); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return head[at:], nil
	}
	var buf bytes.Buffer
	enc := jsonEncoder(&buf, "    ")
	for k, item := range items {
		buf.Reset()
		if err := enc.Encode(item); err != nil {
			return nil, err
		}
		sep := ",\n    "
		if k == 0 {
			sep = "\n    "
		}
		if _, err := w.WriteString(sep); err != nil {
			return nil, err
		}
		if _, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))); err != nil {
			return nil, err
		}
	}
	_, err := w.WriteString("\n  ")
	return head[at:], err
}
