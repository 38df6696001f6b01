package report

import (
	_ "embed"
	"html/template"
	"io"
	"strings"

	"github.com/archwaydev/archway/internal/assess"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
	"cpu": func(m int64) string {
		if m == 0 {
			return "-"
		}
		return cpuText(m)
	},
}).Parse(htmlSource))

type htmlData struct {
	Title, Version, Target, Summary string
	Workloads, Images               htmlCounts
	Charts                          []htmlChart
	Rows                            []htmlRow
	FixFirst                        []ImageFix // WithAdvice only
}

type htmlCounts struct {
	assess.Counts
	// Bar widths, rounded to a tenth.
	ReadyPct, NotReadyPct, UnknownPct float64
	// Whole percentages for text, rounded once from the exact share so
	// they match the table and Markdown summaries.
	ReadyText, NotReadyText, UnknownText string
}

type htmlChart struct {
	Title string
	Bars  []htmlBar
}

type htmlBar struct {
	Label string
	htmlCounts
}

type htmlRow struct {
	Verdict, VerdictLabel        string
	Rank                         int
	ID, Namespace, Source, Where string
	Images, Reasons              []string
	Pin                          string
}

func newHTMLCounts(c assess.Counts) htmlCounts {
	return htmlCounts{Counts: c,
		ReadyPct: round1(c.Percent(assess.Ready)), NotReadyPct: round1(c.Percent(assess.NotReady)),
		UnknownPct: round1(c.Percent(assess.Unknown)),
		ReadyText:  pct(c, assess.Ready), NotReadyText: pct(c, assess.NotReady), UnknownText: pct(c, assess.Unknown)}
}

func renderHTML(w io.Writer, r assess.Report, o options) error {
	d := htmlData{
		Title: o.title, Version: o.toolVersion, Target: r.Target.String(), Summary: summaryLine(r),
		Workloads: newHTMLCounts(r.Summary.Workloads), Images: newHTMLCounts(r.Summary.Images),
		FixFirst: o.fixFirst(r),
	}
	for _, g := range groupings(r) {
		ch := htmlChart{Title: "By " + g.key}
		for _, gr := range g.groups {
			ch.Bars = append(ch.Bars, htmlBar{Label: groupKey(gr.Key), htmlCounts: newHTMLCounts(gr.Counts)})
		}
		d.Charts = append(d.Charts, ch)
	}
	rank := map[assess.Verdict]int{assess.NotReady: 0, assess.Unknown: 1, assess.Ready: 2}
	for _, wr := range r.Workloads {
		row := htmlRow{
			Verdict: string(wr.Verdict), VerdictLabel: verdictLabel(wr.Verdict), Rank: rank[wr.Verdict],
			ID: wr.Workload.ID(), Namespace: wr.Workload.Namespace, Source: string(wr.Workload.Source),
			Where: o.where(wr.Workload.Location), Images: wr.Workload.Images(), Pin: pinNote(wr, r),
		}
		if wr.Verdict != assess.Ready {
			row.Reasons = wr.Reasons
		}
		d.Rows = append(d.Rows, row)
	}
	var b strings.Builder
	if err := htmlTemplate.Execute(&b, d); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
