package cli

import (
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var demoHost = regexp.MustCompile(`A registry on (127\.0\.0\.1:\d+) holds`)

func TestDemo(t *testing.T) {
	got := runArchway(t.Context(), "", "demo")
	if got.code != ExitOK {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", got.code, got.stderr)
	}
	m := demoHost.FindStringSubmatch(got.stdout)
	if m == nil {
		t.Fatalf("demo output names no registry:\n%s", got.stdout)
	}
	out := strings.ReplaceAll(got.stdout, m[1], hostPlaceholder)
	for _, want := range []string{
		hostPlaceholder + "/demo/api:2.1 ", "supported",
		"/demo/legacy-billing:3.2  sha256:ef683f1fffea  manifest  linux/amd64                           unsupported  no linux/arm64",
		"/demo/missing:1.0         -                    -         -                                     unknown      not found",
		"13 images checked for linux/arm64: 7 supported, 5 unsupported, 1 unknown",
		"archway check nginx:1.27",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	golden(t, "demo_output.golden", out)
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
