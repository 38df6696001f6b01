package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
)

// TestCheckQuotaAndMirror runs check against a Docker-Hub-like origin
// with a pull quota of 4, for 10 images: without a mirror 4 are answered
// and 6 are unknown (rate limited) with one note; with --registry-mirror
// all 10 are answered and the origin spends no pull.
func TestCheckQuotaAndMirror(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	hub := registrytest.StartHub(t, 4, time.Hour)
	mirror := registrytest.StartCounted(t, hub.Registry.Handler)
	var refs []string
	for i := range 10 {
		repo := fmt.Sprintf("quota/app%d:1", i)
		registrytest.Push(t, hub.Registry.Ref(repo), registrytest.Image(t, platform.MustParse("linux/arm64")))
		refs = append(refs, hub.Ref(repo))
	}
	type summary struct {
		Supported, Unknown int
		Registries         []struct {
			Registry           string
			Pulls, RateLimited int
			Quota              struct{ Limit, Remaining int }
		}
	}
	decode := func(out string) summary {
		var rep struct{ Summary summary }
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("decoding %q: %v", out, err)
		}
		return rep.Summary
	}
	base := []string{"check", "--no-cache", "-o", "json", "--docker-daemon-config", "", "--containerd-hosts-dir", ""}

	got := runArchway(t.Context(), "", append(base, refs...)...)
	s := decode(got.stdout)
	if got.code != ExitUnknown || s.Supported != 4 || s.Unknown != 6 {
		t.Errorf("exit %d, summary %+v; want exit %d, 4 supported, 6 unknown\nstderr: %s", got.code, s, ExitUnknown, got.stderr)
	}
	if len(s.Registries) != 1 || s.Registries[0].Pulls != 4 || s.Registries[0].RateLimited != 6 || s.Registries[0].Quota.Limit != 4 {
		t.Errorf("registries = %+v, want 4 pulls, 6 rate limited, limit 4", s.Registries)
	}
	if n := strings.Count(got.stderr, "note:"); n != 1 || !strings.Contains(got.stderr, "4 per 1h0m0s") {
		t.Errorf("stderr has %d notes, want one naming the quota:\n%s", n, got.stderr)
	}
	if n := hub.Count(registrytest.ManifestGET); n != 4 {
		t.Errorf("origin manifest GETs = %d, want 4", n)
	}

	hub.Reset()
	got = runArchway(t.Context(), "", append(append(base, "--registry-mirror", hub.Host+"="+mirror.Host), refs...)...)
	if s := decode(got.stdout); got.code != ExitOK || s.Supported != 10 {
		t.Errorf("with a mirror: exit %d, summary %+v; want 10 supported\nstderr: %s", got.code, s, got.stderr)
	}
	if n := hub.Count(registrytest.ManifestGET); n != 0 {
		t.Errorf("with a mirror: origin manifest GETs = %d, want 0", n)
	}

	hub.Reset()
	got = runArchway(t.Context(), "", append(append(base, "-o", "table", "-v"), refs[:2]...)...)
	for _, want := range []string{"REGISTRY", "PULLS", "2/4 per 1h0m0s", "closed"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("-v table lacks %q:\n%s", want, got.stdout)
		}
	}
}
