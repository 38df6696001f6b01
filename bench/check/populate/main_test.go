package main

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/registry"
)

func TestMix(t *testing.T) {
	counts := map[string]int{}
	for _, s := range mix(100) {
		key := s.Kind
		if s.Docker {
			key += "/docker"
		}
		if s.Attest {
			key += "/attest"
		}
		counts[key]++
	}
	want := map[string]int{"index": 30, "index/attest": 20, "index/docker": 20, "manifest": 20, "manifest/docker": 10}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("mix of 100 (-want +got):\n%s", diff)
	}
}

func TestPopulate(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	out := filepath.Join(t.TempDir(), "refs.txt")
	if err := run(t.Context(), []string{"-registry", host, "-ref-host", "proxy:1", "-n", "12", "-out", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 12 || lines[0] != "proxy:1/bench/svc-00000:1.0" {
		t.Errorf("refs = %q", lines)
	}
}
