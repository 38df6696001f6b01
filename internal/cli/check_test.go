package cli

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/sandbox"
)

// hostPlaceholder replaces the sandbox's random host:port in golden files;
// it is as wide as a real one, so tables stay aligned.
const hostPlaceholder = "127.0.0.1:NNNNN"

// startSandbox serves the catalogue on loopback for one test, and points
// the user cache at a temporary directory.
func startSandbox(t *testing.T) string {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s, err := sandbox.Start(t.Context())
	if err != nil {
		t.Fatalf("sandbox.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("sandbox close: %v", err)
		}
	})
	return s.Host
}

// refs returns host/repo:tag for each "repo:tag".
func refs(host string, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = host + "/" + n
	}
	return out
}

// allRefs is the whole catalogue plus the missing image.
func allRefs(host string) []string {
	var out []string
	for _, img := range sandbox.Catalog() {
		out = append(out, img.Ref(host))
	}
	return append(out, host+"/"+sandbox.MissingRef)
}

func TestCheckGolden(t *testing.T) {
	host := startSandbox(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"check_table.golden", append([]string{"-o", "table", "--no-cache"}, allRefs(host)...), ExitUnsupported},
		{"check_json.golden", append([]string{"-o", "json", "--no-cache"}, allRefs(host)...), ExitUnsupported},
		{"check_verbose.golden", append([]string{"-o", "table", "-v", "--no-cache"}, refs(host, "demo/api:2.1", "demo/dotnet-app:4.8", "demo/edge-agent:0.9")...), ExitUnsupported},
		{"check_multi_platform.golden", append([]string{"-o", "table", "--no-cache", "--platform", "linux/arm64,linux/arm/v7"}, refs(host, "demo/worker:1.0", "demo/api:2.1", "demo/pi-sensor:1.0")...), ExitUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"check"}, tt.args...)...)
			if got.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", got.code, tt.wantCode, got.stderr)
			}
			if got.stderr != "" {
				t.Errorf("stderr = %q, want nothing", got.stderr)
			}
			golden(t, tt.name, strings.ReplaceAll(got.stdout, host, hostPlaceholder))
		})
	}
}

// TestCheckJSONSchema decodes -o json into the documented schema and
// checks the verdicts that matter.
func TestCheckJSONSchema(t *testing.T) {
	host := startSandbox(t)
	got := runArchway(t.Context(), "", append([]string{"check", "--no-cache"}, allRefs(host)...)...) // not a terminal: JSON by default
	var rep struct {
		Target []string `json:"target"`
		Images []struct {
			Ref, Name, Digest, Kind, Verdict, Cause, Error string
			Platforms                                      []struct {
				OS, Architecture, Variant, Digest string
				OSVersion                         string `json:"os.version"`
			}
		} `json:"images"`
		Summary struct {
			Supported, Unsupported, Unknown int
			Registries                      []struct {
				Registry                            string
				Requests, Pulls, Heads, RateLimited int
				Breaker                             string
				BreakerTrips                        int
				Quota                               struct {
					Metered, Exhausted              bool
					Limit, Remaining, WindowSeconds int
				}
			}
		} `json:"summary"`
	}
	dec := json.NewDecoder(strings.NewReader(got.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("decoding JSON output: %v\n%s", err, got.stdout)
	}
	verdicts := map[string]string{}
	for _, im := range rep.Images {
		verdicts[strings.TrimPrefix(im.Ref, host+"/")] = im.Verdict + "/" + im.Cause
	}
	want := map[string]string{
		"demo/api:2.1": "supported/", "demo/worker:1.0": "supported/", "demo/sidecar:1.0": "supported/",
		"demo/legacy-billing:3.2": "unsupported/no linux/arm64", "demo/edge-agent:0.9": "supported/",
		"demo/pi-sensor:1.0": "unsupported/no linux/arm64", "demo/dotnet-app:4.8": "unsupported/no linux/arm64",
		"demo/nested:1.0": "supported/", "demo/queue:1.0": "unsupported/no linux/arm64",
		"demo/queue:1.1": "unsupported/no linux/arm64", "demo/queue:2.0": "supported/", "demo/queue:2.1": "supported/",
		"demo/missing:1.0": "unknown/not found",
	}
	if diff := cmp.Diff(want, verdicts); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"linux/arm64"}, rep.Target); diff != "" {
		t.Errorf("target (-want +got):\n%s", diff)
	}
	if rep.Summary.Supported != 7 || rep.Summary.Unsupported != 5 || rep.Summary.Unknown != 1 {
		t.Errorf("summary = %+v, want 7/5/1", rep.Summary)
	}
	if regs := rep.Summary.Registries; len(regs) != 1 || regs[0].Registry != host || regs[0].Pulls < 13 ||
		regs[0].Requests <= regs[0].Pulls || regs[0].Breaker != "closed" || regs[0].Quota.Metered {
		t.Errorf("summary.registries = %+v, want one for %s with a pull per image at least, breaker closed, no quota", regs, host)
	}
	if got.code != ExitUnsupported {
		t.Errorf("exit code = %d, want %d", got.code, ExitUnsupported)
	}
}

func TestCheckExitCodes(t *testing.T) {
	host := startSandbox(t)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"all supported", refs(host, "demo/api:2.1", "demo/sidecar:1.0", "demo/nested:1.0"), ExitOK},
		{"one unsupported", refs(host, "demo/api:2.1", "demo/queue:1.1"), ExitUnsupported},
		{"unsupported wins over unknown", refs(host, "demo/queue:1.1", sandbox.MissingRef), ExitUnsupported},
		{"only unknown", refs(host, sandbox.MissingRef), ExitUnknown},
		{"arm v7 target", append([]string{"--platform", "linux/arm/v7"}, refs(host, "demo/worker:1.0", "demo/pi-sensor:1.0")...), ExitOK},
		{"amd64 target", append([]string{"--platform", "amd64"}, refs(host, "demo/edge-agent:0.9")...), ExitUnsupported},
		{"windows target", append([]string{"--platform", "windows/amd64"}, refs(host, "demo/dotnet-app:4.8")...), ExitOK},
		{"both platforms", append([]string{"--platform", "linux/amd64,linux/arm64"}, refs(host, "demo/queue:2.0", "demo/legacy-billing:3.2")...), ExitUnsupported},
		{"duplicates checked once", refs(host, "demo/api:2.1", "demo/api:2.1"), ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), "", append([]string{"check", "--no-cache", "-o", "json"}, tt.args...)...)
			if got.code != tt.want {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", got.code, tt.want, got.stdout, got.stderr)
			}
		})
	}
}

func TestCheckUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badList := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(badList, []byte("# images\nnginx:1.27\n\nUPPER/Case::x\nok/x:1\nbad::ref\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		stdin   string
		args    []string
		wantErr string // in stderr
	}{
		{"no images", "", []string{}, "no images given"},
		{"bad platform", "", []string{"--platform", "linux/sparc99", "nginx:1.27"}, `unknown architecture "sparc99"`},
		{"unknown platform", "", []string{"--platform", "unknown/unknown", "nginx:1.27"}, "not a platform"},
		{"bad output", "", []string{"-o", "yaml", "nginx:1.27"}, `-o "yaml": want table or json`},
		{"bad jobs", "", []string{"--jobs", "0", "nginx:1.27"}, "--jobs must be at least 1"},
		{"bad argument reference", "", []string{"nginx:1.27", "UPPER/Case::x"}, `argument 2: bad image reference "UPPER/Case::x"`},
		{"bad reference in file", "", []string{"-f", badList}, badList + `:4: bad image reference "UPPER/Case::x"`},
		{"every bad line is reported", "", []string{"-f", badList}, badList + `:6: bad image reference "bad::ref"`},
		{"upper case repository", "", []string{"UPPER/case:1"}, `"UPPER/case:1": repository names must be lowercase`},
		{"ambiguous arm", "", []string{"--platform", "arm", "nginx:1.27"}, `"arm" is ambiguous`},
		{"two references on a line", "a:1 b:2\n", []string{"-f", "-"}, "stdin:1: one image reference a line"},
		{"missing file", "", []string{"-f", filepath.Join(dir, "nope.txt")}, "nope.txt: no such file"},
		{"username without password", "", []string{"--username", "me", "nginx:1.27"}, "--username needs --password-stdin"},
		{"password without username", "", []string{"--password-stdin", "nginx:1.27"}, "--password-stdin needs --username"},
		{"stdin twice", "x", []string{"--username", "me", "--password-stdin", "-f", "-"}, "both read stdin"},
		{"empty password", "", []string{"--username", "me", "--password-stdin", "nginx:1.27"}, "stdin was empty"},
		{"unknown flag", "", []string{"--arch", "arm64", "nginx:1.27"}, "unknown flag: --arch"},
		{"negative timeout", "", []string{"--timeout", "-1s", "nginx:1.27"}, "--timeout must not be negative"},
		{"bad mirror", "", []string{"--registry-mirror", "mirror.gcr.io", "nginx:1.27"}, "want ORIGIN=MIRROR"},
		{"mirror with a path", "", []string{"--registry-mirror", "docker.io=https://m.example/proxy", "nginx:1.27"}, "path prefix"},
		{"bad jobs per registry", "", []string{"--jobs-per-registry", "0", "nginx:1.27"}, "--jobs-per-registry must be at least 1"},
		{"negative pull reserve", "", []string{"--pull-reserve", "-1", "nginx:1.27"}, "--pull-reserve must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), tt.stdin, append([]string{"check"}, tt.args...)...)
			if got.code != ExitUsage {
				t.Errorf("exit code = %d, want %d (usage)", got.code, ExitUsage)
			}
			if !strings.Contains(got.stderr, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", got.stderr, tt.wantErr)
			}
			if got.stdout != "" {
				t.Errorf("stdout = %q, want nothing", got.stdout)
			}
		})
	}
}

func TestCheckFileInput(t *testing.T) {
	host := startSandbox(t)
	list := filepath.Join(t.TempDir(), "images.txt")
	content := "# production images\n" + host + "/demo/api:2.1   # the API\n\n  " + host + "/demo/queue:2.0\n"
	if err := os.WriteFile(list, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := host + "/demo/sidecar:1.0\n" + host + "/demo/api:2.1\n"
	got := runArchway(t.Context(), stdin, "check", "--no-cache", "-o", "json", "-f", list, "-f", "-", host+"/demo/edge-agent:0.9")
	if got.code != ExitOK {
		t.Fatalf("exit code = %d, stderr %s", got.code, got.stderr)
	}
	var rep report.CheckJSON
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	var gotRefs []string
	for _, im := range rep.Images {
		gotRefs = append(gotRefs, im.Ref)
	}
	// Arguments first, then the files in order; repeats dropped.
	want := refs(host, "demo/edge-agent:0.9", "demo/api:2.1", "demo/queue:2.0", "demo/sidecar:1.0")
	if diff := cmp.Diff(want, gotRefs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}

// TestCheckCache runs check twice on the same cache directory: the second
// run answers the same from the cache.
func TestCheckCache(t *testing.T) {
	host := startSandbox(t)
	args := append([]string{"check", "-o", "json"}, refs(host, "demo/api:2.1", "demo/queue:1.1")...)
	first := runArchway(t.Context(), "", args...)
	entries, err := os.ReadDir(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "archway"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("cache directory after the first run: %v entries, err %v", len(entries), err)
	}
	second := runArchway(t.Context(), "", args...)
	if first.code != ExitUnsupported || second.code != ExitUnsupported {
		t.Errorf("exit codes = %d, %d, want %d twice", first.code, second.code, ExitUnsupported)
	}
	// The answers are the same; what was spent differs: the cached run
	// sends no request at all.
	spent := func(out string) (map[string]any, any) {
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("decoding %q: %v", out, err)
		}
		sum := rep["summary"].(map[string]any)
		regs := sum["registries"]
		delete(sum, "registries")
		return rep, regs
	}
	a, firstRegs := spent(first.stdout)
	b, secondRegs := spent(second.stdout)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("cached run differs (-first +second):\n%s", diff)
	}
	if regs, ok := secondRegs.([]any); !ok || len(regs) != 0 {
		t.Errorf("cached run spent %v, want no request; first run spent %v", secondRegs, firstRegs)
	}
}

// basicAuth wraps h so that every request needs user:pass.
func basicAuth(h http.Handler, user, pass string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestCheckCredentials(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials from the user's docker config
	srv := httptest.NewServer(basicAuth(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))), "ci", "s3cret"))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	if _, err := sandbox.Seed(t.Context(), host, remote.WithAuth(&authn.Basic{Username: "ci", Password: "s3cret"})); err != nil {
		t.Fatal(err)
	}
	ref := host + "/demo/api:2.1"
	tests := []struct {
		name      string
		stdin     string
		args      []string
		wantCode  int
		wantCause string
	}{
		{"no credentials", "", []string{ref}, ExitUnknown, "unauthorized"},
		{"wrong password", "nope\n", []string{"--username", "ci", "--password-stdin", ref}, ExitUnknown, "unauthorized"},
		{"right password", "s3cret\n", []string{"--username", "ci", "--password-stdin", ref}, ExitOK, ""},
		{"registry-auth names the host", "s3cret", []string{"--username", "ci", "--password-stdin", "--registry-auth", host, ref}, ExitOK, ""},
		{"registry-auth for another host", "s3cret", []string{"--username", "ci", "--password-stdin", "--registry-auth", "ghcr.io", ref}, ExitUnknown, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runArchway(t.Context(), tt.stdin, append([]string{"check", "--no-cache", "-o", "json"}, tt.args...)...)
			if got.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\n%s%s", got.code, tt.wantCode, got.stdout, got.stderr)
			}
			var rep report.CheckJSON
			if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil || len(rep.Images) != 1 {
				t.Fatalf("JSON output %q: %v", got.stdout, err)
			}
			if rep.Images[0].Cause != tt.wantCause {
				t.Errorf("cause = %q, want %q", rep.Images[0].Cause, tt.wantCause)
			}
			if strings.Contains(got.stdout+got.stderr, "s3cret") {
				t.Error("the password appears in the output")
			}
		})
	}
}

// TestCheckTimeout: a registry that never answers makes the image unknown
// (timeout) once --timeout expires, and check still reports it.
func TestCheckTimeout(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	ref := strings.TrimPrefix(srv.URL, "http://") + "/slow/app:1.0"
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	got := runArchway(ctx, "", "check", "--no-cache", "-o", "json", "--timeout", "300ms", ref)
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("check took %s with --timeout 300ms", elapsed)
	}
	if got.code != ExitUnknown {
		t.Fatalf("exit code = %d, want %d\n%s%s", got.code, ExitUnknown, got.stdout, got.stderr)
	}
	var rep report.CheckJSON
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if c := rep.Images[0].Cause; c != "timeout" {
		t.Errorf("cause = %q, want timeout (error %q)", c, rep.Images[0].Error)
	}
}

func TestCheckHelp(t *testing.T) {
	got := runArchway(t.Context(), "", "check", "--help")
	if got.code != ExitOK {
		t.Fatalf("exit code %d", got.code)
	}
	for _, want := range []string{"archway check nginx:1.27", "--password-stdin", "a definite \"no\" wins over unknown", "--platform string"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
