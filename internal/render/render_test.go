package render

import (
	"context"
	"errors"
	"fmt"
	"io"

	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/registrytest"
	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kustomize"
)

// writeFiles writes files (path → content) under a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// chart writes a chart whose one template is tmpl.
func chart(t *testing.T, tmpl string) string {
	t.Helper()
	return writeFiles(t, map[string]string{
		"Chart.yaml":         "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"values.yaml":        "image: nginx:1.27\n",
		"templates/pod.yaml": tmpl,
	})
}

const podTemplate = `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}
spec:
  containers:
  - name: app
    image: {{ .Values.image }}
`

func TestHelmSameAsInProcess(t *testing.T) {
	for path, opts := range map[string]helm.Options{
		chart(t, podTemplate):          {ReleaseName: "r1", Values: []string{"image=busybox:1.36"}},
		"../source/helm/testdata/shop": {Namespace: "shop"},
	} {
		want, err := helm.RenderChart(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, notes, err := Helm(context.Background(), path, opts, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: child render differs (-in process +child):\n%s", path, diff)
		}
		if len(notes) != 0 {
			t.Errorf("%s: notes %q", path, notes)
		}
	}
}

func TestHelmErrorsAsInProcess(t *testing.T) {
	path := chart(t, "{{ fail \"no such thing\" }}\n")
	_, want := helm.RenderChart(path, helm.Options{})
	_, _, got := Helm(context.Background(), path, helm.Options{}, Limits{})
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Errorf("child error %v, in-process error %v", got, want)
	}
}

// TestHelmMemoryBound: a template that allocates without end fails its
// chart with ErrMemory, fast, and the parent stays small.
func TestHelmMemoryBound(t *testing.T) {
	for name, tmpl := range map[string]string{
		"one huge range":  "{{ range until 2000000000 }}x{{ end }}\n",
		"growing strings": "{{ $s := \"xxxxxxxxxxxxxxxx\" }}{{ range until 40 }}{{ $s = print $s $s }}{{ end }}{{ $s }}\n",
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, _, err := Helm(context.Background(), chart(t, tmpl), helm.Options{}, Limits{Memory: 256 << 20, Timeout: time.Minute})
			if !errors.Is(err, ErrMemory) {
				t.Fatalf("err = %v, want ErrMemory", err)
			}
			if !strings.Contains(err.Error(), "256Mi") || !strings.Contains(err.Error(), "--render-memory") {
				t.Errorf("error does not say the bound and its flag: %v", err)
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestHelmTimeout: a template that loops without allocating is stopped at
// the timeout.
func TestHelmTimeout(t *testing.T) {
	tmpl := "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n"
	start := time.Now()
	_, _, err := Helm(context.Background(), chart(t, tmpl), helm.Options{}, Limits{Timeout: time.Second})
	took := time.Since(start)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "--render-timeout") {
		t.Fatalf("err = %v, want ErrTimeout naming its flag", err)
	}
	if took > 10*time.Second {
		t.Errorf("took %v for a 1s timeout", took)
	}
}

// TestCanceled: the caller's cancellation stops the child and is the error.
func TestCanceled(t *testing.T) {
	tmpl := "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n"
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	_, _, err := Helm(ctx, chart(t, tmpl), helm.Options{}, Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`

func TestKustomizeSameAsInProcess(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"kustomization.yaml": "resources: [web.yaml]\nimages:\n- name: nginx\n  newTag: \"1.28\"\n",
		"web.yaml":           deployment,
	})
	for _, o := range []kustomize.BuildOptions{{}, {Origins: true}} {
		want, err := kustomize.Build(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Kustomize(context.Background(), dir, o, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%+v: child build differs (-in process +child):\n%s", o, diff)
		}
	}
}

// TestKustomizeStderrNotes: what kustomize prints itself (the vars
// warning) comes back as a note of the build.
func TestKustomizeStderrNotes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"kustomization.yaml": `resources: [web.yaml]
vars:
- name: WEB
  objref: {kind: Deployment, name: web, apiVersion: apps/v1}
`,
		"web.yaml": deployment,
	})
	got, err := Kustomize(context.Background(), dir, kustomize.BuildOptions{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range got.Warnings {
		if strings.HasPrefix(w, kustomize.DisplayName(dir)+": ") && strings.Contains(w, "'vars' is deprecated") {
			found = true
		}
		if strings.Contains(w, "# Warning") {
			t.Errorf("warning keeps kustomize's prefix: %q", w)
		}
	}
	if !found {
		t.Errorf("no vars warning among %q", got.Warnings)
	}
}

// TestKustomizeAliasBomb: a resource file of nested aliases that
// kustomize's YAML layer expands is bounded.
func TestKustomizeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	dir := writeFiles(t, map[string]string{
		"kustomization.yaml": "resources: [bomb.yaml, web.yaml]\n",
		"bomb.yaml":          b.String(),
		"web.yaml":           deployment,
	})
	_, err := Kustomize(context.Background(), dir, kustomize.BuildOptions{}, Limits{Memory: 256 << 20, Timeout: 20 * time.Second})
	if err == nil {
		t.Fatal("an alias bomb built")
	}
	if !errors.Is(err, ErrMemory) && !errors.Is(err, ErrTimeout) && !strings.Contains(err.Error(), "alias") {
		t.Errorf("err = %v, want a bound or kustomize's alias refusal", err)
	}
	t.Log(err)
}

// remote serves paths on loopback: /web.yaml the deployment, /endless an
// endless body, /stall nothing, ever; it counts requests.
func remote(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch r.URL.Path {
		case "/web.yaml":
			fmt.Fprint(w, deployment)
		case "/endless":
			chunk := []byte(strings.Repeat("# endless\n", 6554))
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/stall":
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv.URL, &n
}

func TestKustomizeRemote(t *testing.T) {
	base, requests := remote(t)
	kust := func(entry string) string {
		return writeFiles(t, map[string]string{"kustomization.yaml": "resources:\n- " + entry + "\n"})
	}
	allow := kustomize.BuildOptions{AllowRemote: true}

	// Off by default: nothing fetched.
	_, err := Kustomize(context.Background(), kust(base+"/web.yaml"), kustomize.BuildOptions{}, Limits{})
	if !strings.Contains(err.Error(), kustomize.ErrRemote.Error()) || requests.Load() != 0 {
		t.Fatalf("without AllowRemote: err = %v, %d requests", err, requests.Load())
	}

	// Allowed: a small resource is read.
	got, err := Kustomize(context.Background(), kust(base+"/web.yaml"), allow, Limits{})
	if err != nil || !strings.Contains(string(got.YAML), "image: nginx:1.27") {
		t.Fatalf("remote resource: err = %v, output:\n%s", err, got.YAML)
	}

	// An endless body stops at the size cap, with the URL in the error.
	start := time.Now()
	_, err = Kustomize(context.Background(), kust(base+"/endless"), allow, Limits{Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), errTooLarge.Error()) || !strings.Contains(err.Error(), "/endless") {
		t.Errorf("endless body: err = %v, want the size cap with the URL", err)
	}
	t.Logf("endless: %v after %v", err, time.Since(start).Round(time.Millisecond))

	// A server that never answers is stopped at the deadline.
	start = time.Now()
	_, err = Kustomize(context.Background(), kust(base+"/stall"), allow, Limits{Timeout: 2 * time.Second})
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("stalled server: err = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("stalled server: took %v for a 2s timeout", took)
	}
}

func TestCapBodiesContentLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "1000")
		fmt.Fprint(w, strings.Repeat("x", 1000))
	}))
	defer srv.Close()
	c := &http.Client{Transport: capBodies{next: http.DefaultTransport, max: 999}}
	if _, err := c.Get(srv.URL); !errors.Is(err, errTooLarge) {
		t.Errorf("a declared length over the cap: err = %v", err)
	}
	c.Transport = capBodies{next: http.DefaultTransport, max: 1000}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != 1000 {
		t.Errorf("a body at the cap: %d bytes, %v", n, err)
	}
}

// TestServeBadRequest: a child given what is not a request says so and
// exits 3, writing no answer.
func TestServeBadRequest(t *testing.T) {
	var out strings.Builder
	if code := serve("1073741824", strings.NewReader("{not json"), &out); code != 3 || out.Len() != 0 {
		t.Errorf("serve = %d, wrote %q", code, out.String())
	}
}

// TestKustomizeOffline: without AllowRemote, no file a kustomization
// names is fetched, wherever it is named (patches, generator files), and
// no git repository spec is cloned.
func TestKustomizeOffline(t *testing.T) {
	base, requests := remote(t)
	for name, k := range map[string]string{
		"patch":       "resources: [web.yaml]\npatches:\n- path: " + base + "/web.yaml\n",
		"generator":   "resources: [web.yaml]\nconfigMapGenerator:\n- name: c\n  files: [" + base + "/web.yaml]\n",
		"openapi":     "resources: [web.yaml]\nopenapi:\n  path: " + base + "/web.yaml\n",
		"git user":    "resources: [web.yaml, deploy@127.0.0.1:org/repo]\n",
		"git host":    "resources: [web.yaml, github.com:org/repo]\n",
		"transformer": "resources: [web.yaml]\ntransformers: [ssh://127.0.0.1:1/org/repo]\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"kustomization.yaml": k, "web.yaml": deployment})
			_, err := Kustomize(context.Background(), dir, kustomize.BuildOptions{}, Limits{Timeout: 20 * time.Second})
			if err == nil || !strings.Contains(err.Error(), kustomize.ErrRemote.Error()) {
				t.Errorf("err = %v, want remote refused", err)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// TestKustomizeRemoteGitKilled: a remote base that kustomize clones with
// git from a server that never answers is stopped at the deadline, git
// with it (the child's process group is killed).
func TestKustomizeRemoteGitKilled(t *testing.T) {
	registrytest.NeedBinary(t, "git", "git") // kustomize clones remote bases with it
	stop := make(chan struct{})
	var clones atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "info/refs") {
			http.NotFound(w, r) // kustomize's plain GET fails: it clones instead
			return
		}
		clones.Add(1)
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	defer func() { close(stop); srv.Close() }()
	url := srv.URL + "/org/repo.git"
	dir := writeFiles(t, map[string]string{"kustomization.yaml": "resources:\n- " + url + "\n"})
	start := time.Now()
	_, err := Kustomize(context.Background(), dir, kustomize.BuildOptions{AllowRemote: true}, Limits{Timeout: 3 * time.Second})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if clones.Load() == 0 {
		t.Fatal("git never asked the server: the test did not test the clone")
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %v for a 3s timeout", took)
	}
	// No git process still holds the URL.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := processesWith(t, strings.TrimPrefix(srv.URL, "http://"))
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("git outlived its child: %q", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHelmNotes: what Helm logs while loading a chart (here, that it
// follows a symbolic link) comes back as a note naming the chart.
func TestHelmNotes(t *testing.T) {
	dir := chart(t, podTemplate)
	if err := os.Symlink(filepath.Join(dir, "templates", "pod.yaml"), filepath.Join(dir, "templates", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	_, notes, err := Helm(context.Background(), dir, helm.Options{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("notes: %q", notes)
	if len(notes) == 0 {
		t.Fatal("no notes")
	}
	for _, n := range notes {
		if !strings.HasPrefix(n, "helm: chart "+dir+": ") || !strings.Contains(n, "symbolic link") {
			t.Errorf("note %q does not name the chart or say what Helm said", n)
		}
	}
}

// processesWith lists the command lines, from /proc, that contain s.
func processesWith(t *testing.T, s string) []string {
	t.Helper()
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil || len(cmdlines) == 0 {
		t.Fatalf("reading /proc: %v", err)
	}
	var out []string
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), s) {
			out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}
