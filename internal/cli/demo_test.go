package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/sandbox"
)

var demoHost = regexp.MustCompile(`A registry on (127\.0\.0\.1:\d+) holds`)

// demoTempDir makes a new temporary directory the working directory, where
// the demo writes ./archway-demo, and returns the package directory.
func demoTempDir(t *testing.T) (pkgDir, work string) {
	t.Helper()
	pkgDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	work = t.TempDir()
	t.Chdir(work)
	return pkgDir, work
}

func TestDemo(t *testing.T) {
	pkgDir, work := demoTempDir(t)
	got := runArchway(t.Context(), "", "demo")
	if got.code != ExitOK {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", got.code, got.stderr)
	}
	m := demoHost.FindStringSubmatch(got.stdout)
	if m == nil {
		t.Fatalf("demo output names no registry:\n%s", got.stdout)
	}
	out := strings.ReplaceAll(got.stdout, m[1], hostPlaceholder)
	out = strings.ReplaceAll(out, "file://"+filepath.ToSlash(work), "file:///WORK")
	for _, want := range []string{
		hostPlaceholder + "/demo/api:2.1 ", "supported",
		"/demo/legacy-billing:3.2  sha256:ef683f1fffea  manifest  linux/amd64                           unsupported  no linux/arm64",
		"/demo/missing:1.0         -                    -         -                                     unknown      not found",
		"13 images checked for linux/arm64: 7 supported, 5 unsupported, 1 unknown",
		"archway check nginx:1.27",
		"$ archway scan --platform linux/arm64 archway-demo/examples",
		"Deployment/shop/billing",
		"Summary: 10 workloads for linux/arm64: 4 ready (40%), 5 not ready (50%), 1 unknown (10%)",
		"file:///WORK/archway-demo/report.html",
		"$ archway place --dry-run --arm-taint arm=true:NoSchedule archway-demo/examples",
		"archway-demo/examples/k8s/billing.yaml:2 Deployment/shop/billing: + required kubernetes.io/arch In [amd64]",
		"+++ b/archway-demo/examples/k8s/api.yaml",
		"archway place: would place 5 workload(s); 1 skipped (unknown image); 0 failed",
		"  archway place --in-place --arm-taint arm=true:NoSchedule archway-demo/examples\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	html, err := os.ReadFile(filepath.Join("archway-demo", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Deployment/shop/billing", "not-ready"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, f := range sandbox.FleetFiles() {
		if _, err := os.Stat(filepath.Join("archway-demo", "examples", filepath.FromSlash(f))); err != nil {
			t.Errorf("fleet file: %v", err)
		}
	}
	// A second run writes over its own directory.
	if again := runArchway(t.Context(), "", "demo"); again.code != ExitOK {
		t.Errorf("second run: exit code = %d, want 0; stderr:\n%s", again.code, again.stderr)
	}
	t.Chdir(pkgDir)
	golden(t, "demo_output.golden", out)
}

// TestDemoDir: the demo writes only into a new, empty or demo-written
// directory, and leaves any other untouched.
func TestDemoDir(t *testing.T) {
	_, work := demoTempDir(t)
	mine := filepath.Join(work, "mine")
	if err := os.MkdirAll(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runArchway(t.Context(), "", "demo", "--dir", mine)
	if got.code != ExitUsage {
		t.Errorf("exit code = %d, want %d", got.code, ExitUsage)
	}
	if !strings.Contains(got.stderr, "not written by archway demo") {
		t.Errorf("stderr does not say why:\n%s", got.stderr)
	}
	entries, err := os.ReadDir(mine)
	if err != nil || len(entries) != 1 {
		t.Errorf("the user's directory changed: %v %v", entries, err)
	}
	empty := filepath.Join(work, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	got = runArchway(t.Context(), "", "demo", "--dir", empty)
	if got.code != ExitOK {
		t.Errorf("empty --dir: exit code = %d, want 0; stderr:\n%s", got.code, got.stderr)
	}
	if _, err := os.Stat(filepath.Join(empty, "report.html")); err != nil {
		t.Errorf("no report in the empty --dir: %v", err)
	}
}

func TestDemoBadPlatform(t *testing.T) {
	got := runArchway(t.Context(), "", "demo", "--platform", "nope/nope/nope/nope")
	if got.code != ExitUsage {
		t.Errorf("exit code = %d, want %d", got.code, ExitUsage)
	}
}

// signalWriter collects output and closes ready once it contains marker.
type signalWriter struct {
	mu     sync.Mutex
	buf    strings.Builder
	marker string
	ready  chan struct{}
	once   sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestDemoServe: with --serve the registry keeps serving until the context
// ends, and the printed commands work against it.
func TestDemoServe(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	demoTempDir(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out := &signalWriter{marker: "until you press Ctrl-C", ready: make(chan struct{})}
	done := make(chan int, 1)
	go func() { done <- Execute(ctx, []string{"demo", "--serve"}, strings.NewReader(""), out, io.Discard) }()
	select {
	case <-out.ready:
	case code := <-done:
		t.Fatalf("demo --serve returned %d before serving:\n%s", code, out)
	case <-ctx.Done():
		t.Fatalf("demo --serve never said it was serving:\n%s", out)
	}
	m := demoHost.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no registry host in:\n%s", out)
	}
	host := m[1]
	if want := "archway check " + host + "/demo/queue:1.1 " + host + "/demo/queue:2.0"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q", want)
	}
	got := runArchway(ctx, "", "check", "--no-cache", "-o", "json", "--platform", "linux/arm/v7", host+"/demo/worker:1.0")
	if got.code != ExitOK {
		t.Errorf("check against the served registry: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	scan := runArchway(ctx, "", "scan", "--no-cache", "-o", "json", "--fail-on", "never", filepath.Join("archway-demo", "examples", "k8s", "api.yaml"))
	if scan.code != ExitOK || !strings.Contains(scan.stdout, `"verdict": "ready"`) {
		t.Errorf("scan of the written fleet against the served registry: exit %d\n%s%s", scan.code, scan.stdout, scan.stderr)
	}
	// The place commands printed work against the served registry: the
	// fleet lacks its placement until --in-place writes it; then only the
	// workload with the missing image is left (unknown: exit 2).
	fleet := filepath.Join("archway-demo", "examples")
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--check"}, ExitUnsupported},
		{[]string{"--in-place"}, ExitOK},
		{[]string{"--check"}, ExitUnknown},
	} {
		got := runArchway(ctx, "", append(append([]string{"place", "--no-cache", "--arm-taint", "arm=true:NoSchedule"}, c.args...), fleet)...)
		if got.code != c.want {
			t.Errorf("place %v: exit %d, want %d\n%s", c.args, got.code, c.want, got.stderr)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("demo --serve exit code = %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo --serve did not stop after cancel")
	}
}
