package rewrite

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffApplies: the dry-run diff of every golden input, and of files
// without a final newline, applies with the real patch -p1 and git apply
// and gives exactly what --in-place writes.
func TestDiffApplies(t *testing.T) {
	for _, tool := range []string{"patch", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (Debian packages patch and git): %v", tool, err)
		}
	}
	type pair struct{ name, old, new string }
	var cases []pair
	ins, err := filepath.Glob("testdata/*.in.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		f, err := testParser.Parse(in, data)
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.Apply(testImages, optionsFor(filepath.Base(in)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed {
			cases = append(cases, pair{filepath.Base(in), string(data), string(res.Data)})
		}
	}
	cases = append(cases,
		pair{"no-newline.yaml", "a: 1\nb: 2", "a: 1\nb: 2\nc: 3\n"},
		pair{"gains-no-newline.yaml", "a: 1\n", "a: 1\nb: 2"},
		pair{"end-change.yaml", "x\ny\nz\n", "x\ny\nz2\n"},
		pair{"from-empty.yaml", "", "a: 1\n"},
	)
	if len(cases) < 8 {
		t.Fatalf("only %d changed inputs: the golden inputs went missing", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var diff bytes.Buffer
			if err := WriteDiff(&diff, "dir/"+c.name, []byte(c.old), []byte(c.new)); err != nil {
				t.Fatal(err)
			}
			for _, tool := range [][]string{{"patch", "-p1", "--quiet", "--batch"}, {"git", "apply", "--whitespace=nowarn"}} {
				root := t.TempDir()
				file := filepath.Join(root, "dir", c.name)
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(c.old), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(tool[0], tool[1:]...)
				cmd.Dir, cmd.Stdin = root, bytes.NewReader(diff.Bytes())
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s rejects the diff: %v\n%s\ndiff:\n%s", strings.Join(tool, " "), err, out, diff.String())
				}
				got, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != c.new {
					t.Errorf("%s: applied diff gives\n%q\nwant what --in-place writes\n%q", tool[0], got, c.new)
				}
			}
		})
	}
}
