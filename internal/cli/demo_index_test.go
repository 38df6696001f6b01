package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/sandbox"
)

// TestIndexDemoStep runs the demo's index step on the sandbox: the new
// index has both platforms and check finds it supported.
func TestIndexDemoStep(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s, err := sandbox.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	c, err := registry.New(registry.WithoutCache())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := &demoEnv{out: &out, server: s, lookup: c, targets: []platform.Platform{platform.LinuxARM64}}
	if err := indexDemoImages(t.Context(), env); err != nil {
		t.Fatalf("index step: %v\n%s", err, out.String())
	}
	got := out.String()
	r := c.Lookup(t.Context(), s.Host+"/"+demoIndexRepo)
	if r.Err != nil || r.Platforms().String() != "linux/amd64,linux/arm64" {
		t.Fatalf("lookup: %v %v", r.Platforms(), r.Err)
	}
	for _, want := range []string{"$ archway index create --expect linux/amd64,linux/arm64", "wrote " + s.Host + "/" + demoIndexRepo, r.Digest, "1 supported, 0 unsupported, 0 unknown"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
