package manifest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"
)

func TestObjects(t *testing.T) {
	in := `# a comment only document
---
apiVersion: v1
kind: List
items:
- kind: Pod
  metadata: {name: a, namespace: ns}
  spec: {containers: [{image: x}]}
- kind: ConfigMap
  metadata: {name: c}
---
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{image: y}]}}}
---
values: {not: an object}
---
apiVersion: apps/v1
kind: DeploymentList
items:
- metadata: {name: e}
  spec: {template: {spec: {containers: []}}}
`
	s := Parse("f.yaml", []byte(in))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	type row struct {
		APIVersion, Kind, Namespace, Name string
		Line                              int
		SpecPath                          string
	}
	var got []row
	for _, o := range s.Objects() {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.ID(), o.Err)
		}
		got = append(got, row{o.APIVersion, o.Kind, o.Namespace, o.Name, o.Line, strings.Join(o.SpecPath, ".")})
	}
	want := []row{
		{"v1", "Pod", "ns", "a", 6, "spec"},
		{"v1", "ConfigMap", "", "c", 9, ""},
		{"", "Deployment", "", "d", 12, "spec.template.spec"},
		{"apps/v1", "Deployment", "", "e", 21, "spec.template.spec"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("objects (-want +got):\n%s", d)
	}
}

func TestParseKeepsGoodDocuments(t *testing.T) {
	s := Parse("f.yaml", []byte("kind: Pod\nspec: {containers: []}\n---\nkind: Pod\nspec: [\n---\nkind: Job\nspec: {template: {spec: {containers: []}}}\n"))
	var e *Error
	if err := s.Err(); !errors.As(err, &e) || e.Line != 5 || e.File != "f.yaml" {
		t.Fatalf("Err = %v, want a *Error at f.yaml line 5", err)
	}
	var kinds []string
	for _, o := range s.Objects() {
		kinds = append(kinds, o.Kind)
	}
	if d := cmp.Diff([]string{"Pod", "Job"}, kinds); d != "" {
		t.Errorf("objects of the documents that parsed (-want +got):\n%s", d)
	}
}

func TestEmptyFiles(t *testing.T) {
	for _, in := range []string{"", "   \n\n", "\xef\xbb\xbf", "# only a comment\n", "---\n---\n"} {
		s := Parse("f", []byte(in))
		if err := s.Err(); err != nil {
			t.Errorf("%q: Err = %v, want none (an empty file has no objects)", in, err)
		}
		if n := len(s.Objects()); n != 0 {
			t.Errorf("%q: %d objects, want 0", in, n)
		}
	}
}

func TestMalformedObjects(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"scalar document", "just a string\n", "line 1: expected a Kubernetes object (a mapping), found the scalar"},
		{"pod spec not a mapping", "kind: Pod\nspec: [1]\n", "line 2: Pod: spec: expected a mapping, found a list"},
		{"duplicate spec in JSON", `{"kind": "Pod", "spec": {"containers": []},` + "\n" + `"spec": {"containers": [{"image": "x"}]}}`, `duplicate key "spec" at lines 1 and 2`},
		{"duplicate deep in the template", "kind: Deployment\nspec:\n  template:\n    spec:\n      containers: []\n      containers: []\n", `duplicate key "containers" at lines 5 and 6`},
		{"items not a list", "kind: List\nitems: 3\n", "items: expected a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := Parse("f", []byte(tt.in)).Objects()
			if len(objs) != 1 || objs[0].Err == nil || !strings.Contains(objs[0].Err.Error(), tt.want) {
				t.Fatalf("objects = %+v, want one with an error containing %q", objs, tt.want)
			}
		})
	}
}

func TestAliasBomb(t *testing.T) {
	// Nine levels of ten aliases each: 10^9 pods when expanded.
	var b strings.Builder
	b.WriteString("kind: List\nx0: &a0 [{kind: Pod, spec: {containers: [{image: x}]}}]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("x" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("items: *a9\n")
	s := Parse("bomb.yaml", []byte(b.String()))
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "alias bomb") {
		t.Fatalf("Err = %v, want the alias cap", err)
	}
	if n := len(s.Objects()); n != 0 {
		t.Errorf("%d objects from a refused document", n)
	}
}

// TestAliasBombAcrossDocuments: documents each under MaxExpandedNodes but
// together far past what a file may expand are refused once the file's
// budget is spent; the documents before stay read.
func TestAliasBombAcrossDocuments(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("kind: Pod\nmetadata: {name: p}\nx: &a [" + strings.TrimSuffix(strings.Repeat("1,", 1000), ",") + "]\ny: [")
	doc.WriteString(strings.TrimSuffix(strings.Repeat("*a,", 200), ","))
	doc.WriteString("]\nspec: {containers: [{name: c, image: x}]}\n")
	const docs = 30 // each adds about 200,000 nodes through aliases: 6,000,000 in all
	in := strings.Repeat("---\n"+doc.String(), docs)
	s := Parse("bombs.yaml", []byte(in))
	var ok, refused int
	for _, d := range s.Docs {
		switch {
		case d.Err == nil:
			ok++
		case strings.Contains(d.Err.Error(), "across documents"):
			refused++
		default:
			t.Errorf("unexpected error: %v", d.Err)
		}
	}
	if want := MaxAliasedNodesPerFile / 200_200; ok != want || refused != docs-want {
		t.Errorf("%d documents read and %d refused, want %d and %d", ok, refused, want, docs-want)
	}
	if n := len(s.Objects()); n != ok {
		t.Errorf("%d objects, want %d (one per document read)", n, ok)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	in := "# head\nkind: Pod # why\nspec:\n  containers: []\n---\n# second\nkind: Job\n"
	s := Parse("f", []byte(in))
	out, err := s.Encode()
	if err != nil || string(out) != in {
		t.Fatalf("unchanged stream: %q, %v; want it byte for byte", out, err)
	}
	SetKey(s.Docs[1].Root.Content[0], "metadata", &yamlNodeName)
	s.Docs[1].Changed = true
	out, err = s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := "# head\nkind: Pod # why\nspec:\n  containers: []\n---\n# second\nkind: Job\nmetadata: n\n"
	if string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// TestSetKeyKeepsLineComments: a value "{}", "[]" or null that SetKey
// fills in as a block mapping or list keeps its line comment on its key's
// line, nested keys included (found by FuzzRewrite: yaml.v3 lost or moved
// them).
func TestSetKeyKeepsLineComments(t *testing.T) {
	in := "spec:\n  tolerations: [] # none yet\n  affinity: {} # empty\n  nodeSelector: ~ # null\n  deep:\n    inner: {} # inner\n"
	s := Parse("f", []byte(in))
	spec := Get(s.Docs[0].Root.Content[0], "spec")
	for key, value := range map[string]any{
		"tolerations":  []map[string]string{{"key": "arm"}},
		"affinity":     map[string]any{"nodeAffinity": map[string]string{"a": "b"}},
		"nodeSelector": map[string]string{"kubernetes.io/arch": "arm64"},
		"deep":         map[string]any{"inner": map[string]string{"x": "y"}},
	} {
		n, err := ToNode(value)
		if err != nil {
			t.Fatal(err)
		}
		SetKey(spec, key, n)
	}
	checkEncoded(t, s, "spec:\n  tolerations: # none yet\n  - key: arm\n  affinity: # empty\n    nodeAffinity:\n      a: b\n  nodeSelector: # null\n    kubernetes.io/arch: arm64\n  deep:\n    inner: # inner\n      x: y\n")

	// With an anchor or a tag, which must follow the key on its line, the
	// comment goes above the first entry (on the key, yaml.v3 writes it
	// before the anchor, which does not parse).
	s = Parse("f", []byte("spec:\n  tolerations: &t [] # shared\n  affinity: !!map {} # tagged\n  copy: *t\n"))
	spec = Get(s.Docs[0].Root.Content[0], "spec")
	tol, _ := ToNode([]map[string]string{{"key": "arm"}})
	aff, _ := ToNode(map[string]string{"a": "b"})
	SetKey(spec, "tolerations", tol)
	SetKey(spec, "affinity", aff)
	checkEncoded(t, s, "spec:\n  tolerations: &t\n  # shared\n  - key: arm\n  affinity: !!map\n    # tagged\n    a: b\n  copy: *t\n")
}

// TestDocumentEndMarker: content after a "..." line, which yaml.v3 and
// kubectl do not read, makes the document fail with its line, not vanish;
// comments after it are kept when the document is written back (found by
// FuzzRewrite: place dropped the bytes after the marker).
func TestDocumentEndMarker(t *testing.T) {
	s := Parse("f", []byte("kind: ConfigMap\n---\nkind: Pod\nspec: {containers: [{image: x}]}\n...\n# after\nkind: Job\n"))
	if len(s.Docs) != 2 || s.Docs[0].Err != nil {
		t.Fatalf("docs %d, first %v", len(s.Docs), s.Docs[0].Err)
	}
	want := `f: line 5: content after the document end marker "...": kubectl ignores it; start it with a "---" line`
	if err := s.Docs[1].Err; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}

	in := "kind: Pod\nspec: {containers: [{image: x}]}\n... # end\n# after the end\n\n"
	s = Parse("f", []byte(in))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	SetKey(s.Docs[0].Root.Content[0], "metadata", &yamlNodeName)
	checkEncoded(t, s, "kind: Pod\nspec: {containers: [{image: x}]}\nmetadata: n\n... # end\n# after the end\n\n")
}

// TestEncodeKeepsKeyComments: a comment after a key whose value is on the
// next line survives re-encoding, which writes the value on the key's
// line; yaml.v3 dropped it when the value had a comment of its own or was
// a flow collection or an alias (found by FuzzRewrite).
func TestEncodeKeepsKeyComments(t *testing.T) {
	in := "a: &a # ka\n  va\nb: # kb\n  vb # vb\nc: # kc\n  [1, 2]\nd: # kd\n  {x: 1} # vd\ne: # ke\n  - 1\ng: # kg\n  *a\n"
	checkEncoded(t, Parse("f", []byte(in)), "a: &a va # ka\nb: vb # kb # vb\nc: [1, 2] # kc\nd: {x: 1} # kd # vd\ne: # ke\n  - 1\ng: *a # kg\n")
}

// checkEncoded re-encodes every document of s and checks that the result
// is want and parses.
func checkEncoded(t *testing.T, s *Stream, want string) {
	t.Helper()
	for _, d := range s.Docs {
		d.Changed = d.Root != nil
	}
	out, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if err := Parse("f", out).Err(); err != nil {
		t.Errorf("the output does not parse: %v", err)
	}
}

var yamlNodeName = func() yaml.Node {
	n, _ := ToNode("n")
	return *n
}()

// TestLargeStream: a stream large enough to be parsed in parallel keeps
// every document in order, with its own lines and errors.
func TestLargeStream(t *testing.T) {
	var b strings.Builder
	const n = 2000
	for i := range n {
		if i%97 == 0 {
			fmt.Fprintf(&b, "---\nkind: Pod\nmetadata: {name: bad-%d\n", i) // unterminated flow mapping
			continue
		}
		fmt.Fprintf(&b, "---\nkind: Pod\nmetadata:\n  name: p-%d\nspec: {containers: [{name: c, image: x}]}\n", i)
	}
	s := Parse("big.yaml", []byte(b.String()))
	if len(s.Docs) != n {
		t.Fatalf("%d documents, want %d", len(s.Docs), n)
	}
	line := 1
	for i, d := range s.Docs {
		if d.Line != line {
			t.Fatalf("document %d starts at line %d, want %d", i, d.Line, line)
		}
		bad := i%97 == 0
		if (d.Err != nil) != bad {
			t.Fatalf("document %d: err %v, want an error: %v", i, d.Err, bad)
		}
		if bad {
			line += 3
			continue
		}
		if got := Get(Get(d.Root.Content[0], "metadata"), "name"); got == nil || got.Value != fmt.Sprintf("p-%d", i) || got.Line != line+3 {
			t.Fatalf("document %d: name %v", i, got)
		}
		line += 5
	}
	out, err := s.Encode()
	if err != nil || string(out) != b.String() {
		t.Errorf("unchanged stream does not encode back byte for byte (%v)", err)
	}
}
