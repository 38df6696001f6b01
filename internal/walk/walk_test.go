package walk

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tree builds files and links under a new directory: a value starting
// with "->" is a link to the rest.
func tree(t *testing.T, entries map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, v := range entries {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(v, "->"); ok {
			err = os.Symlink(target, p)
		} else if v == "/" {
			err = os.MkdirAll(p, 0o755)
		} else {
			err = os.WriteFile(p, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// collect walks root and returns the files read (relative, with their
// content) and the link errors.
func collect(t *testing.T, root string, o Options) (map[string]string, []string) {
	t.Helper()
	files := map[string]string{}
	var problems []string
	err := Dir(root, o, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err != nil {
			var le *LinkError
			if !errors.As(err, &le) {
				t.Errorf("%s: %v", rel, err)
				return nil
			}
			problems = append(problems, rel+": "+le.Reason[:strings.IndexByte(le.Reason+" ", ' ')])
			return nil
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir // as every reader does
			}
			return nil
		}
		if !d.Type().IsRegular() {
			t.Errorf("%s: entry of type %v passed on", rel, d.Type())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		files[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, problems
}

func TestSymlinks(t *testing.T) {
	outside := tree(t, map[string]string{"x.yaml": "outside"})
	root := tree(t, map[string]string{
		"a.yaml":           "a",
		"link-a.yaml":      "->a.yaml", // read as a.yaml, once
		"sub/b.yaml":       "b",
		"sub/up":           "->..", // a loop: not followed
		"sub/again":        "->../sub",
		".hidden/c.yaml":   "c",
		"link-c.yaml":      "->.hidden/c.yaml", // not reached otherwise: read through the link
		"notes.txt":        "n",
		"link-notes.yaml":  "->notes.txt", // a manifest by its link's name only
		"outside.yaml":     "->" + filepath.Join(outside, "x.yaml"),
		"outside-dir":      "->" + outside,
		"dangling.yaml":    "->nope.yaml",
		"cycle1.yaml":      "->cycle2.yaml",
		"cycle2.yaml":      "->cycle1.yaml",
		".git/objects/o":   "skipped",
		"data/.keep":       "k",
		"hiddenlink/d.txt": "/",
		"via-dot":          "->.hidden", // a directory not walked otherwise
	})
	files, problems := collect(t, root, Options{Reads: func(p string) bool { return strings.HasSuffix(p, ".yaml") }})
	wantFiles := map[string]string{
		"a.yaml": "a", "sub/b.yaml": "b", "link-c.yaml": "c", "link-notes.yaml": "n", "notes.txt": "n", "data/.keep": "k",
	}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("files read (-want +got):\n%s", diff)
	}
	wantProblems := []string{"cycle1.yaml: that", "cycle2.yaml: that", "dangling.yaml: which", "outside-dir: outside", "outside.yaml: outside"}
	if diff := cmp.Diff(wantProblems, problems); diff != "" {
		t.Errorf("links reported (-want +got):\n%s", diff)
	}

	t.Run("within another root", func(t *testing.T) {
		files, problems := collect(t, root, Options{Within: []string{root, outside}})
		if files["outside.yaml"] != "" || len(problems) != 3 { // x.yaml is read by the walk of outside itself
			t.Errorf("files %v, problems %v; want outside.yaml left to outside's walk, 3 problems (the cycle and dangling links)", files, problems)
		}
	})
	t.Run("root is a link", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "fleet")
		if err := os.Symlink(root, link); err != nil {
			t.Fatal(err)
		}
		files, _ := collect(t, link, Options{})
		if files["a.yaml"] != "a" || files["link-c.yaml"] != "c" {
			t.Errorf("files through a linked root: %v", files)
		}
	})
}

func TestLink(t *testing.T) {
	root := tree(t, map[string]string{"a.yaml": "a", ".h/b.yaml": "b", "l1.yaml": "->a.yaml", "l2.yaml": "->.h/b.yaml", "l3": "->.h", "l4": "->/"})
	o := Options{Within: []string{root}}
	for name, want := range map[string]string{"l1.yaml": "skip", "l2.yaml": "file", "l3": "dir", "l4": "error"} {
		e, follow, err := Link(filepath.Join(root, name), o)
		got := "skip"
		switch {
		case err != nil:
			got = "error"
		case follow && e.IsDir():
			got = "dir"
		case follow:
			got = "file"
		}
		if got != want {
			t.Errorf("Link(%s) = %s (%v), want %s", name, got, err, want)
		}
		if follow && e.Name() != name {
			t.Errorf("Link(%s) entry named %q", name, e.Name())
		}
	}
}
