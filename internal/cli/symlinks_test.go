package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/report"
)

// symlinkFleet writes a tree whose only amd64-only workload is reached
// through a symbolic link (its file sits in a dot-directory the walk
// skips), with a link to a file read anyway, a loop, and links pointing
// outside the tree and nowhere. It returns the tree and the outside file.
func symlinkFleet(t *testing.T, host string) (root, outside string) {
	t.Helper()
	deploy := func(name, image string) string {
		return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s, namespace: shop}\nspec:\n  selector: {matchLabels: {app: %s}}\n  template:\n    metadata: {labels: {app: %s}}\n    spec:\n      containers:\n      - name: app\n        image: %s\n",
			name, name, name, image)
	}
	root, other := t.TempDir(), t.TempDir()
	outside = filepath.Join(other, "elsewhere.yaml")
	files := map[string]string{
		"apps/api.yaml":                 deploy("api", host+"/demo/legacy-billing:3.2"),
		"shared/.templates/legacy.yaml": deploy("legacy", host+"/demo/legacy-billing:3.2"),
	}
	links := map[string]string{
		"apps/legacy.yaml":   "../shared/.templates/legacy.yaml",
		"apps/again.yaml":    "api.yaml",
		"apps/loop":          "..",
		"apps/elsewhere.yml": outside,
		"apps/gone.yaml":     "nothing-here.yaml",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(outside, []byte(deploy("elsewhere", host+"/demo/api:2.1")), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

// TestSymlinkedManifests: scan (directory and Kubernetes walks) and place
// read a manifest reached through a link inside the tree, each file once,
// end at a loop, and report the links to outside the tree and nowhere.
func TestSymlinkedManifests(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	host := startSandbox(t)
	root, outside := symlinkFleet(t, host)
	for _, kind := range [][]string{nil, {"--kind", "kubernetes"}} {
		t.Run("scan "+strings.Join(kind, " "), func(t *testing.T) {
			args := append(append([]string{"scan", "--no-cache", "-o", "json", "--fail-on", "never"}, kind...), root)
			got := runArchway(t.Context(), "", args...)
			if got.code != ExitError {
				t.Errorf("exit code = %d, want %d (the links not followed are input problems)\n%s", got.code, ExitError, got.stderr)
			}
			var rep report.JSONReport
			if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
				t.Fatalf("JSON: %v\n%s", err, got.stdout)
			}
			var ids []string
			for _, w := range rep.Workloads {
				ids = append(ids, w.ID+"="+string(w.Verdict))
			}
			slices.Sort(ids)
			if want := []string{"Deployment/shop/api=not-ready", "Deployment/shop/legacy=not-ready"}; !slices.Equal(ids, want) {
				t.Errorf("workloads = %v, want %v (each once, the linked one included)", ids, want)
			}
			for _, want := range []string{"apps/elsewhere.yml: symbolic link to " + outside + " outside", "apps/gone.yaml: symbolic link to nothing-here.yaml which does not exist"} {
				if !strings.Contains(got.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, got.stderr)
				}
			}
		})
	}
	t.Run("place", func(t *testing.T) {
		before, _ := os.ReadFile(outside)
		got := runArchway(t.Context(), "", "place", "--in-place", "--no-cache", root)
		t.Logf("stderr:\n%s", got.stderr)
		for _, want := range []string{"apps/elsewhere.yml: symbolic link to " + outside + " outside", "apps/gone.yaml: symbolic link"} {
			if !strings.Contains(got.stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
		}
		if n := strings.Count(got.stderr, "Deployment/shop/api:"); n != 1 {
			t.Errorf("api placed %d times, want once (apps/again.yaml links to it)", n)
		}
		api, _ := os.ReadFile(filepath.Join(root, "apps/api.yaml"))
		if n := strings.Count(string(api), "kubernetes.io/arch"); n != 1 {
			t.Errorf("api.yaml has %d arch requirements, want 1 (placed once):\n%s", n, api)
		}
		legacy, _ := os.ReadFile(filepath.Join(root, "shared/.templates/legacy.yaml"))
		if !strings.Contains(string(legacy), "kubernetes.io/arch") {
			t.Errorf("the linked legacy manifest was not placed:\n%s", legacy)
		}
		if fi, err := os.Lstat(filepath.Join(root, "apps/legacy.yaml")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("apps/legacy.yaml is no longer a link: %v %v", fi.Mode(), err)
		}
		if after, _ := os.ReadFile(outside); string(after) != string(before) {
			t.Error("place wrote a file outside the tree it was given")
		}
	})
}
