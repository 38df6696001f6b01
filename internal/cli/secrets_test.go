package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/report"
)

// reflectingRegistry answers like a proxy or token endpoint that echoes
// the request: with bearer set, the ping sends clients to a token endpoint
// that answers 200 with the request's headers and no token; else the ping
// asks for basic auth and every later request gets a 500 whose body is
// the request's headers.
func reflectingRegistry(t *testing.T, bearer bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/" && bearer:
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="reflect"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/v2/" && r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Basic realm="reflect"`)
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/token":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"echo": r.Header, "note": "no token here"})
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "upstream failed; request was:\nAuthorization: %s\n", r.Header.Get("Authorization"))
			_ = r.Header.Write(w)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestServerEchoedSecretsNotShown: credentials a server echoes in a body
// reach neither stdout nor stderr of check or scan, in any format.
func TestServerEchoedSecretsNotShown(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	const user, pass = "ci", "Echoed-Pa55word"
	secrets := []string{pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	for _, bearer := range []bool{false, true} {
		host := reflectingRegistry(t, bearer)
		ref := host + "/app/api:1.0"
		dir := t.TempDir()
		pod := filepath.Join(dir, "pod.yaml")
		manifest := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\nspec:\n  containers:\n  - name: api\n    image: %s\n", ref)
		if err := os.WriteFile(pod, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		auth := []string{"--no-cache", "--username", user, "--password-stdin", "--registry-auth", host}
		for _, args := range [][]string{
			append([]string{"check", ref}, auth...),
			append([]string{"check", "-o", "json", ref}, auth...),
			append([]string{"scan", pod}, auth...),
			append([]string{"scan", "-o", "json", pod}, auth...),
		} {
			t.Run(fmt.Sprintf("bearer=%v %s", bearer, strings.Join(args[:len(args)-len(auth)], " ")), func(t *testing.T) {
				got := runArchway(t.Context(), pass+"\n", args...)
				if got.code != ExitUnknown {
					t.Errorf("exit code = %d, want %d (unknown)\n%s%s", got.code, ExitUnknown, got.stdout, got.stderr)
				}
				out := got.stdout + got.stderr
				want := "500 Internal Server Error"
				if bearer {
					want = "no token in bearer response"
				}
				if !strings.Contains(out, want) {
					t.Errorf("output does not say %q:\n%s", want, out)
				}
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("output contains the secret %q:\n%s", s, out)
					}
				}
			})
		}
	}
}

// TestCheckArtifactsOnly: an index whose entries are all attestations or
// artifacts (an SBOM declaring linux/arm64 among them) is unsupported, the
// registry having answered, with its cause; an SBOM is no arm64 platform
// beside an amd64 image either.
func TestCheckArtifactsOnly(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	r := registrytest.StartInProcess(t)
	amd := registrytest.OCIImage(t, platform.LinuxAMD64)
	sbom := registrytest.OCIImage(t, platform.LinuxARM64)
	desc := func(tag string, img v1.Image, mt types.MediaType, p *v1.Platform) v1.Descriptor {
		d, _ := v1.NewHash(registrytest.Push(t, r.Ref("art/app:"+tag), img))
		n, _ := img.Size()
		return v1.Descriptor{MediaType: mt, Digest: d, Size: n, Platform: p}
	}
	amdDesc := desc("amd", amd, types.OCIManifestSchema1, registrytest.V1Platform(platform.LinuxAMD64))
	sbomDesc := desc("sbom", sbom, "application/vnd.example.sbom.v1+json", registrytest.V1Platform(platform.LinuxARM64))
	index := func(ds ...v1.Descriptor) []byte {
		b, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: ds})
		return b
	}
	registrytest.PushRaw(t, r.Ref("art/app:only-sbom"), types.OCIImageIndex, index(sbomDesc))
	registrytest.PushRaw(t, r.Ref("art/app:amd-and-sbom"), types.OCIImageIndex, index(amdDesc, sbomDesc))
	got := runArchway(t.Context(), "", "check", "--no-cache", "-o", "json", r.Ref("art/app:only-sbom"), r.Ref("art/app:amd-and-sbom"))
	if got.code != ExitUnsupported {
		t.Errorf("exit code = %d, want %d\n%s%s", got.code, ExitUnsupported, got.stdout, got.stderr)
	}
	var rep report.CheckJSON
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil || len(rep.Images) != 2 {
		t.Fatalf("JSON %q: %v", got.stdout, err)
	}
	for i, want := range []string{"unsupported: no runnable platform in index", "unsupported: no linux/arm64"} {
		if g := string(rep.Images[i].Verdict) + ": " + rep.Images[i].Cause; g != want {
			t.Errorf("%s: %s, want %s", rep.Images[i].Ref, g, want)
		}
	}
	table := runArchway(t.Context(), "", "check", "--no-cache", r.Ref("art/app:only-sbom"))
	if !strings.Contains(table.stdout+table.stderr, "no runnable platform in index") {
		t.Errorf("table output does not give the cause:\n%s%s", table.stdout, table.stderr)
	}
}
