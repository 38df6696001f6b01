package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/archwaydev/archway/internal/advisor"
	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/report"
)

// writeCheckReport renders check's report and, with --advise (advice not
// nil), the advice for its unsupported images: JSON gains an "advice"
// array (advise's objects), the table a second table.
func writeCheckReport(w io.Writer, format report.Format, rep assess.CheckReport, verbose bool, advice *app.AdviseResult, spent ...lookup.RegistryStats) error {
	if advice == nil {
		return report.RenderCheck(w, format, rep, verbose, spent...)
	}
	if format == report.JSON {
		doc := struct {
			report.CheckJSON
			Advice []advisor.Advice `json:"advice"`
		}{report.ToCheckJSON(rep, spent...), advice.Images}
		if doc.Advice == nil {
			doc.Advice = []advisor.Advice{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	if err := report.RenderCheck(w, format, rep, verbose, spent...); err != nil {
		return err
	}
	if len(advice.Images) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return advisor.WriteTable(w, advice.Target, advice.Images)
}
