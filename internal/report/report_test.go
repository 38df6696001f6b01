package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/assess"
	goldenfile "github.com/archwaydev/archway/internal/golden"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name+".golden"), got)
}

func render(t *testing.T, f Format, r assess.Report, opts ...Option) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, f, r, opts...); err != nil {
		t.Fatalf("Render(%s): %v", f, err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	r := fixture()
	for _, tt := range []struct {
		name   string
		format Format
		opts   []Option
	}{
		{"table", Table, nil},
		{"table-color", Table, []Option{WithColor(true)}},
		{"table-all", Table, []Option{WithAll(true)}},
		{"markdown-all", Markdown, []Option{WithAll(true)}},
		{"json", JSON, nil},
		{"markdown", Markdown, nil},
		{"html", HTML, nil},
		{"sarif", SARIF, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, render(t, tt.format, r, append(fixtureOptions, tt.opts...)...))
		})
	}
}

// TestTableAtScale: a fleet of 4,000 workloads, half of them ready, prints
// the ones that need work and counts the ready ones, unless --all.
func TestTableAtScale(t *testing.T) {
	var ws []workload.Workload
	for i := range 4000 {
		img := "example.com/arm:1"
		if i%2 == 1 {
			img = "example.com/amd:1"
		}
		ws = append(ws, workload.Workload{Source: workload.SourceKubernetes, Kind: "Deployment", Name: fmt.Sprintf("w%d", i),
			Containers: []workload.Container{{Name: "c", Image: img}}})
	}
	images := map[string]lookup.Result{
		"example.com/arm:1": found("example.com/arm:1", "sha256:a", platform.LinuxARM64),
		"example.com/amd:1": found("example.com/amd:1", "sha256:b", platform.LinuxAMD64),
	}
	r := assess.Assess(ws, images, platform.LinuxARM64)
	for _, f := range []Format{Table, Markdown} {
		def := string(render(t, f, r))
		all := string(render(t, f, r, WithAll(true)))
		if n := strings.Count(def, "Deployment/w"); n != 2000 {
			t.Errorf("%s: %d workloads listed by default, want the 2000 not ready", f, n)
		}
		if !strings.Contains(def, "2000") || !strings.Contains(def, "--all") {
			t.Errorf("%s: the ready workloads are not counted with a pointer to --all", f)
		}
		if n := strings.Count(all, "Deployment/w"); n != 4000 {
			t.Errorf("%s --all: %d workloads listed, want 4000", f, n)
		}
	}
}

func TestGoldenEmpty(t *testing.T) {
	r := assess.Assess(nil, nil, platform.LinuxARM64)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			golden(t, "empty-"+string(f), render(t, f, r, fixtureOptions...))
		})
	}
}

func TestTableFitsIn100Columns(t *testing.T) {
	out := string(render(t, Table, fixture(), fixtureOptions...))
	for i, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > tableWidth {
			t.Errorf("line %d is %d columns: %q", i+1, n, line)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("table without WithColor contains ANSI escapes")
	}
}

func TestJSONSchema(t *testing.T) {
	r := fixture()
	var got JSONReport
	if err := json.Unmarshal(render(t, JSON, r), &got); err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != SchemaVersion || !slices.Equal(got.Target, []string{"linux/arm64"}) {
		t.Errorf("schemaVersion %d target %q", got.SchemaVersion, got.Target)
	}
	c := got.Summary.Workloads
	want := JSONCounts{Total: 9, Ready: 4, NotReady: 2, Unknown: 3, ReadyPercent: 44.4, NotReadyPercent: 22.2,
		UnknownPercent: 33.3, Pinned: 3, CouldMove: 1}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("summary.workloads mismatch (-want +got):\n%s", diff)
	}
	if len(got.Workloads) != len(r.Workloads) || len(got.Images) != len(r.Images) {
		t.Errorf("got %d workloads and %d images, want %d and %d", len(got.Workloads), len(got.Images), len(r.Workloads), len(r.Images))
	}
}

func TestSARIFResults(t *testing.T) {
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, SARIF, fixture(), fixtureOptions...), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q with %d runs, want 2.1.0 with 1", log.Version, len(log.Runs))
	}
	type res struct {
		Rule, Level, Where string
	}
	var got []res
	for _, r := range log.Runs[0].Results {
		where := "(no file)"
		if pl := r.Locations[0].PhysicalLocation; pl != nil {
			where = pl.ArtifactLocation.URIBaseID + "/" + pl.ArtifactLocation.URI
			if pl.Region != nil {
				where += ":" + itoa(pl.Region.StartLine) + ":" + itoa(pl.Region.StartColumn)
			}
		}
		got = append(got, res{r.RuleID, r.Level, where})
	}
	want := []res{
		{RuleImageLacksPlatform, "error", "%SRCROOT%/deploy/api.yaml:18:18"},
		{RuleImageUnknown, "warning", "%SRCROOT%/deploy/report.yaml:19:22"},
		{RuleImageUnknown, "warning", "%SRCROOT%/charts/db/templates/statefulset.yaml:30:18"},
		{RulePinCouldMove, "note", "%SRCROOT%/overlays/prod/kustomization.yaml:1:1"},
		{RuleImageUnknown, "warning", "(no file)"},
		{RuleImageLacksPlatform, "error", "%SRCROOT%/ecs/billing.json:8:16"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SARIF results mismatch (-want +got):\n%s", diff)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"table": Table, "JSON": JSON, "md": Markdown, "markdown": Markdown, " html ": HTML, "sarif": SARIF} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("ParseFormat(yaml) error = %v, want one naming the format", err)
	}
	if err := Render(&bytes.Buffer{}, Format("yaml"), fixture()); err == nil {
		t.Error("Render with an unknown format: want error")
	}
}

func TestExitCode(t *testing.T) {
	counts := func(nr, unk int) assess.Report {
		return assess.Report{Summary: assess.Summary{Workloads: assess.Counts{Total: 3, Ready: 3 - nr - unk, NotReady: nr, Unknown: unk}}}
	}
	tests := []struct {
		name   string
		r      assess.Report
		failOn FailOn
		want   int
	}{
		{"all ready", counts(0, 0), FailOnUnknown, ExitOK},
		{"not ready fails on unknown policy", counts(1, 1), FailOnUnknown, ExitNotReady},
		{"unknown fails on unknown policy", counts(0, 1), FailOnUnknown, ExitUnknown},
		{"not ready fails on not-ready policy", counts(1, 0), FailOnNotReady, ExitNotReady},
		{"unknown passes on not-ready policy", counts(0, 2), FailOnNotReady, ExitOK},
		{"never", counts(1, 1), FailOnNever, ExitOK},
		{"empty report", assess.Report{}, FailOnUnknown, ExitOK},
		{"fixture", fixture(), FailOnUnknown, ExitNotReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.r, tt.failOn); got != tt.want {
				t.Errorf("ExitCode = %d, want %d", got, tt.want)
			}
		})
	}
	for _, s := range []string{"not-ready", "unknown", "NEVER"} {
		if _, err := ParseFailOn(s); err != nil {
			t.Errorf("ParseFailOn(%q): %v", s, err)
		}
	}
	if _, err := ParseFailOn("always"); err == nil {
		t.Error("ParseFailOn(always): want error")
	}
}

// The HTML cards round the exact share once, like the text summaries: 6 of
// 11 is 54.5%, shown as 55% everywhere (rounding the bar's 54.5 again to a
// whole number would give 54).
func TestHTMLCardPercentMatchesSummary(t *testing.T) {
	c := assess.Counts{Total: 11, Ready: 4, NotReady: 6, Unknown: 1}
	h := newHTMLCounts(c)
	if got, want := h.NotReadyText, pct(c, assess.NotReady); got != want || got != "55%" {
		t.Errorf("NotReadyText = %q, summary says %q; want both 55%%", got, want)
	}
}
