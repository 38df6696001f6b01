package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/archwaydev/archway/internal/manifest"
)

// FuzzRewrite feeds arbitrary files through place's path: Parse, Apply
// with a fixed support table (in two configurations: node affinity with an
// arm taint, nodeSelector with a preferred arm64), and the atomic write
// over a file on disk.
// It must not panic, and what it writes must be what Apply returned; parse
// again into as many documents; keep byte for byte every document in which
// no target changed (documents with no workload among them); keep every
// comment of the input; hold the placed pod specs; and placing it again
// changes nothing.
func FuzzRewrite(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.in.*")
	for _, in := range inputs {
		if b, err := os.ReadFile(in); err == nil {
			f.Add(b)
		}
	}
	options := []Options{optionsFor("fuzz"), optionsFor("nodeselector-prefer")}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := testParser.Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, opts := range options {
			checkRewrite(t, file, data, opts)
		}
	})
}

// checkRewrite places file, read from data, with opts, writes the result
// over a file on disk as place does, and checks what was written.
func checkRewrite(t *testing.T, file *File, data []byte, opts Options) {
	t.Helper()
	res, err := file.Apply(testImages, opts)
	if err != nil {
		return // a value yaml cannot write back: reported, the file left alone
	}
	path := filepath.Join(t.TempDir(), "fuzz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if res.Changed {
		if err := ReplaceFile(path, data, res.Data); err != nil {
			t.Fatal(err)
		}
	}
	out, err := os.ReadFile(path)
	switch {
	case err != nil:
		t.Fatal(err)
	case !bytes.Equal(out, res.Data):
		t.Fatalf("the file holds %q, Apply returned %q", out, res.Data)
	case !res.Changed && !bytes.Equal(out, data):
		t.Fatalf("nothing changed but the file is %q, was %q", out, data)
	}

	before, after := manifest.Parse("fuzz", data), manifest.Parse("fuzz", out)
	if err := after.Err(); err != nil {
		t.Fatalf("the output does not parse: %v\ninput:\n%s\noutput:\n%s", err, data, out)
	}
	if len(after.Docs) != len(before.Docs) {
		t.Fatalf("%d documents in, %d out\ninput:\n%s\noutput:\n%s", len(before.Docs), len(after.Docs), data, out)
	}
	checkUntouchedDocs(t, data, out, res.Changes)
	if missing := missingComments(commentsOf(before), commentsOf(after)); len(missing) > 0 {
		t.Errorf("comments lost: %q\ninput:\n%s\noutput:\n%s", missing, data, out)
	}
	checkSemantics(t, "fuzz", data, out, opts)

	again, err := testParser.Parse("fuzz", out)
	if err != nil {
		t.Fatalf("the output does not parse: %v\ninput:\n%s\noutput:\n%s", err, data, out)
	}
	res2, err := again.Apply(testImages, opts)
	if err != nil {
		t.Fatalf("applying to the output: %v", err)
	}
	if res2.Changed || !bytes.Equal(res2.Data, out) {
		t.Fatalf("not idempotent\ninput:\n%s\nfirst:\n%s\nsecond:\n%s", data, out, res2.Data)
	}
}

// checkUntouchedDocs checks that every document of a YAML stream in which
// no target changed is the same bytes in out as in in.
func checkUntouchedDocs(t *testing.T, in, out []byte, changes []Change) {
	t.Helper()
	if manifest.Parse("fuzz", in).JSON {
		return // one document: Apply's Changed says it all
	}
	docsIn, docsOut := cutDocs(in), cutDocs(out)
	if len(docsIn) != len(docsOut) {
		t.Fatalf("%d documents in, %d out", len(docsIn), len(docsOut))
	}
	for i, d := range docsIn {
		end := int(^uint(0) >> 1)
		if i+1 < len(docsIn) {
			end = docsIn[i+1].line
		}
		changed := slices.ContainsFunc(changes, func(c Change) bool { return c.Changed && c.Line >= d.line && c.Line < end })
		if !changed && !bytes.Equal(d.raw, docsOut[i].raw) {
			t.Errorf("document %d (line %d) has no changed target but is rewritten:\n%q\nto\n%q", i+1, d.line, d.raw, docsOut[i].raw)
		}
	}
}

// rawDoc is one document of a YAML stream as it is in the file: its
// separator line and text, and the line it starts on.
type rawDoc struct {
	raw  []byte
	line int
}

// cutDocs cuts a YAML stream at "---" lines, as the YAML spec reads
// document markers: "---" alone or followed by white space.
func cutDocs(data []byte) []rawDoc {
	var docs []rawDoc
	cur := rawDoc{line: 1}
	for n, line := range bytes.SplitAfter(data, []byte("\n")) {
		rest, marker := bytes.CutPrefix(line, []byte("---"))
		if marker && (len(rest) == 0 || strings.ContainsRune(" \t\r\n", rune(rest[0]))) {
			if len(cur.raw) > 0 {
				docs = append(docs, cur)
			}
			cur = rawDoc{line: n + 1}
		}
		cur.raw = append(cur.raw, line...)
	}
	if len(cur.raw) > 0 {
		docs = append(docs, cur)
	}
	return docs
}

// commentsOf returns every comment line of the stream's nodes, trimmed.
func commentsOf(s *manifest.Stream) []string {
	var out []string
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		for _, c := range []string{n.HeadComment, n.LineComment, n.FootComment} {
			for _, l := range strings.Split(c, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					out = append(out, l)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, d := range s.Docs {
		walk(d.Root)
	}
	return out
}

// missingComments returns the comments of want (with repeats) that got
// lacks; comments joined on one line in got count.
func missingComments(want, got []string) []string {
	left := strings.Join(got, "\n")
	var missing []string
	for _, c := range want {
		i := strings.Index(left, c)
		if i < 0 {
			missing = append(missing, c)
			continue
		}
		left = left[:i] + "\x00" + left[i+len(c):]
	}
	return missing
}
