package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/sandbox"
)

// adviseJSON is the part of advise's JSON the tests read.
type adviseJSON struct {
	Target string `json:"target"`
	Images []struct {
		Ref     string `json:"ref"`
		Verdict string `json:"verdict"`
		Nearest *struct {
			Tag       string `json:"tag"`
			Digest    string `json:"digest"`
			How       string `json:"how"`
			Confirmed bool   `json:"confirmed"`
		} `json:"nearest"`
		Newest *struct {
			Tag string `json:"tag"`
		} `json:"newest"`
		Alternatives []map[string]string `json:"alternatives"`
		Requests     int                 `json:"requests"`
		Cause        string              `json:"cause"`
	} `json:"images"`
}

func TestAdviseCommand(t *testing.T) {
	host := startSandbox(t)
	got := runArchway(t.Context(), "", append([]string{"advise", "--no-cache", "-o", "json"}, refs(host, "demo/queue:1.1", "demo/api:2.1")...)...)
	if got.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", got.code, got.stdout, got.stderr)
	}
	var doc adviseJSON
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, got.stdout)
	}
	if doc.Target != "linux/arm64" || len(doc.Images) != 2 {
		t.Fatalf("doc %+v", doc)
	}
	q := doc.Images[0]
	if q.Verdict != "unsupported" || q.Nearest == nil || q.Nearest.Tag != "2.0" || !q.Nearest.Confirmed ||
		q.Nearest.How != "registry" || !strings.HasPrefix(q.Nearest.Digest, "sha256:") || q.Newest == nil || q.Newest.Tag != "2.1" || q.Requests == 0 {
		t.Errorf("queue:1.1 advice %+v", q)
	}
	if a := doc.Images[1]; a.Verdict != "supported" || a.Nearest != nil || a.Alternatives == nil {
		t.Errorf("api:2.1 advice %+v", a)
	}
	// The table names the move.
	got = runArchway(t.Context(), "", append([]string{"advise", "--no-cache", "-o", "table"}, refs(host, "demo/queue:1.0")...)...)
	if got.code != ExitOK || !strings.Contains(got.stdout, "move to "+host+"/demo/queue:2.0 (confirmed") {
		t.Errorf("table: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
}

func TestAdviseExitCodes(t *testing.T) {
	host := startSandbox(t)
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{"confirmed move", refs(host, "demo/queue:1.1"), ExitOK},
		{"no newer tag", refs(host, "demo/legacy-billing:3.2"), ExitUnsupported},
		{"none wins over unknown", refs(host, "demo/legacy-billing:3.2", sandbox.MissingRef), ExitUnsupported},
		{"unknown", refs(host, sandbox.MissingRef), ExitUnknown},
		{"arm/v7 is not arm64", refs(host, "demo/pi-sensor:1.0"), ExitUnsupported},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"advise", "--no-cache", "-o", "json"}, tt.args...)...)
			if got.code != tt.want {
				t.Errorf("exit %d, want %d\n%s\n%s", got.code, tt.want, got.stdout, got.stderr)
			}
			var doc adviseJSON
			if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
				t.Fatalf("JSON: %v", err)
			}
			for _, im := range doc.Images {
				if im.Verdict == "unknown" && im.Cause == "" {
					t.Errorf("%s: unknown without a cause", im.Ref)
				}
			}
		})
	}
}

func TestAdviseUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "eco.yaml")
	if err := os.WriteFile(bad, []byte("projects:\n  - projekt: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no images", nil, "no images given"},
		{"two platforms", []string{"--platform", "linux/arm64,linux/amd64", "nginx:1.27"}, "advise takes one target platform"},
		{"bad output", []string{"-o", "html", "nginx:1.27"}, `want table or json`},
		{"bad ecosystem file", []string{"--ecosystem-file", bad, "nginx:1.27"}, "eco.yaml"},
		{"missing ecosystem file", []string{"--ecosystem-file", bad + ".none", "nginx:1.27"}, "no such file"},
		{"bad reference", []string{"UPPER/Case::x"}, "bad image reference"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"advise"}, tt.args...)...)
			if got.code != ExitUsage || !strings.Contains(got.stderr, tt.wantErr) || got.stdout != "" {
				t.Errorf("exit %d stderr %q stdout %q; want %d and %q", got.code, got.stderr, got.stdout, ExitUsage, tt.wantErr)
			}
		})
	}
}

func TestAdviseHelp(t *testing.T) {
	got := runArchway(t.Context(), "", "advise", "--help")
	for _, want := range []string{"Examples:", "archway advise", "--ecosystem-file", "Exit status"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestScanAdvise: scan --advise ranks the fleet's blocking images, each
// with its advice; queue:1.1 is told to move to 2.0.
func TestScanAdvise(t *testing.T) {
	host := scanFleet(t)
	got := runArchway(t.Context(), "", "scan", "--no-cache", "--advise", "-o", "json", ".")
	if got.code != ExitUnsupported {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	var doc struct {
		FixFirst []struct {
			Ref      string `json:"ref"`
			Blocks   int    `json:"blocks"`
			Unblocks int    `json:"unblocks"`
			Advice   string `json:"advice"`
		} `json:"fixFirst"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.FixFirst) == 0 {
		t.Fatalf("no fixFirst section:\n%s", got.stdout)
	}
	found := false
	for i, f := range doc.FixFirst {
		if i > 0 && doc.FixFirst[i-1].Unblocks < f.Unblocks {
			t.Errorf("not ranked: %+v", doc.FixFirst)
		}
		if f.Ref == host+"/demo/queue:1.1" {
			found = true
			if f.Blocks < 2 || f.Advice != "move to "+host+"/demo/queue:2.0; newest with it: 2.1" {
				t.Errorf("queue:1.1 %+v", f)
			}
		}
		if f.Advice == "" {
			t.Errorf("%s has no advice", f.Ref)
		}
	}
	if !found {
		t.Errorf("queue:1.1 not among %+v", doc.FixFirst)
	}
	plain := runArchway(t.Context(), "", "scan", "--no-cache", "-o", "json", ".")
	if strings.Contains(plain.stdout, "fixFirst") {
		t.Error("scan without --advise has the section")
	}
}

// TestCheckAdvise: check --advise adds advise's objects to the JSON and
// its table to the table, and keeps check's exit status.
func TestCheckAdvise(t *testing.T) {
	host := startSandbox(t)
	got := runArchway(t.Context(), "", append([]string{"check", "--no-cache", "--advise", "-o", "json"}, refs(host, "demo/queue:1.1", "demo/api:2.1")...)...)
	if got.code != ExitUnsupported {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	var doc struct {
		Images []struct{ Ref string } `json:"images"`
		Advice []struct {
			Ref     string
			Nearest *struct{ Tag string }
		} `json:"advice"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Advice) != 1 || doc.Advice[0].Nearest == nil || doc.Advice[0].Nearest.Tag != "2.0" || len(doc.Images) != 2 {
		t.Errorf("check --advise JSON:\n%s", got.stdout)
	}
	got = runArchway(t.Context(), "", append([]string{"check", "--no-cache", "--advise", "-o", "table"}, refs(host, "demo/queue:1.1")...)...)
	if !strings.Contains(got.stdout, "move to "+host+"/demo/queue:2.0") {
		t.Errorf("check --advise table:\n%s", got.stdout)
	}
	got = runArchway(t.Context(), "", "check", "--advise", "--platform", "linux/arm64,linux/amd64", "nginx:1")
	if got.code != ExitUsage || !strings.Contains(got.stderr, "--advise takes one --platform") {
		t.Errorf("two platforms: exit %d %s", got.code, got.stderr)
	}
}
