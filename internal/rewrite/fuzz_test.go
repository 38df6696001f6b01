package rewrite

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzApply feeds arbitrary files to Parse and Apply: they must not panic,
// what Apply writes must parse again, and placing it again changes nothing.
func FuzzApply(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.in.*")
	for _, in := range inputs {
		if b, err := os.ReadFile(in); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("kind: Pod\nspec: &s\n  containers: [{image: example.com/amd:1}]\n---\nkind: Pod\nspec: *s\n"))
	opts := optionsFor("fuzz")
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := testParser.Parse("fuzz", data)
		if err != nil {
			return
		}
		res, err := file.Apply(testImages, opts)
		if err != nil {
			return
		}
		again, err := testParser.Parse("fuzz", res.Data)
		if err != nil {
			t.Fatalf("the output does not parse: %v\ninput:\n%s\noutput:\n%s", err, data, res.Data)
		}
		res2, err := again.Apply(testImages, opts)
		if err != nil {
			t.Fatalf("applying to the output: %v", err)
		}
		if res2.Changed {
			t.Fatalf("not idempotent\ninput:\n%s\nfirst:\n%s\nsecond:\n%s", data, res.Data, res2.Data)
		}
	})
}
