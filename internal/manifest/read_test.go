package manifest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/workload"
)

// seen is what a test compares of an object: everything a reader takes
// from it, lines included.
type seen struct {
	APIVersion, Kind, Namespace, Name string
	Line, SpecLine                    int
	SpecPath, Images, Err             string
}

func seenOf(o Object) seen {
	s := seen{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Line: o.Line, SpecPath: strings.Join(o.SpecPath, ".")}
	if o.Spec != nil {
		s.SpecLine = o.Spec.Line
		if cs := Get(o.Spec, "containers"); cs != nil {
			for _, c := range cs.Content {
				if img := Get(c, "image"); img != nil && img.Kind == yaml.ScalarNode {
					s.Images += fmt.Sprintf("%s@%d:%d ", img.Value, img.Line, img.Column)
				}
			}
		}
	}
	for _, f := range o.Images {
		s.Images += fmt.Sprintf("%s=%s@%d ", f.Path, f.Node.Value, f.Node.Line)
	}
	if o.Err != nil {
		s.Err = o.Err.Error()
	}
	return s
}

// sameAsParse fails t unless Map gives what Parse and Objects give: the
// same objects with the same lines, and the same errors.
func sameAsParse(t *testing.T, in string) []seen {
	t.Helper()
	s := Parse("f.yaml", []byte(in))
	var want []seen
	for _, o := range s.Objects() {
		want = append(want, seenOf(o))
	}
	got, err := Map("f.yaml", []byte(in), seenOf)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Map's objects differ from Parse's (-Parse +Map):\n%s", d)
	}
	if fmt.Sprint(err) != fmt.Sprint(s.Err()) {
		t.Errorf("Map's error:\n%v\nParse's:\n%v", err, s.Err())
	}
	return got
}

// TestMapMatchesParse: a stream large enough to be read in parallel, with
// the documents that make Map parse a chunk one document at a time (a
// directive, an end marker, an alias to another document's anchor, a
// malformed document) among plain ones, comment-only and empty documents,
// content on marker lines, lists and aliases, reads as Parse reads it.
func TestMapMatchesParse(t *testing.T) {
	const plain = "---\n# a comment\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p-{i} # why\n  namespace: ns\nspec:\n  containers:\n    - name: app\n      image: img:{i}\n"
	special := []struct {
		every, at int // document i is this one when i%every == at
		doc       string
	}{
		{500, 7, "%YAML 1.2\n" + plain},
		{500, 9, "---\nkind: Pod\nmetadata: {name: end-{i}}\nspec: {containers: [{image: e}]}\n...\n"},
		{500, 13, "---\n...\nkind: Pod\nmetadata: {name: after-end-{i}}\nspec: {containers: [{image: e}]}\n"},
		{500, 17, "---\nkind: Pod\nmetadata: {name: end-comment-{i}}\nspec: {containers: [{image: e}]}\n... # done\n# trailing\n"},
		{700, 11, "---\nkind: Pod\nmetadata: {name: stray-{i}}\nspec: {containers: [*c]}\n"},
		{97, 0, "---\nkind: Pod\nmetadata: {name: bad-{i}\n"},
		{31, 0, "---\n# Source: chart/templates/empty.yaml\n"},
		{37, 0, "---\n\n"},
		{41, 0, "---\n~\n"},
		{43, 0, "--- {kind: Pod, metadata: {name: flow-{i}}, spec: {containers: [{image: f}]}}\n"},
		{47, 0, "---\nkind: Pod\nmetadata: {name: alias-{i}}\nx: &c {name: c, image: a}\nspec:\n  containers: [*c, *c]\n"},
		{53, 0, "--- # list\nkind: List\nitems:\n- kind: Deployment\n  metadata: {name: d-{i}}\n  spec: {template: {spec: {containers: [{image: d}]}}}\n- kind: Prometheus\n  metadata: {name: p}\n  spec: {image: quay.io/p:v1}\n"},
		{59, 0, "---\nkind: Pod\nmetadata: {name: dup-{i}}\nspec: {containers: []}\nspec: {containers: [{image: x}]}\n"},
	}
	var b strings.Builder
	b.WriteString("\xef\xbb\xbf# Source: chart/templates/a.yaml\n")
	const n = 3000
	for i := range n {
		doc := plain
		for _, sp := range special {
			if i%sp.every == sp.at {
				doc = sp.doc
				break
			}
		}
		b.WriteString(strings.ReplaceAll(doc, "{i}", strconv.Itoa(i)))
	}
	b.WriteString("---\n# trailing comment\n")
	got := sameAsParse(t, b.String())
	if len(got) < n*9/10 {
		t.Errorf("%d objects from %d documents", len(got), n)
	}
}

func TestMapSmallStreams(t *testing.T) {
	for _, in := range []string{
		"",
		"---\n",
		"# only a comment\n",
		"kind: Pod\nspec: {containers: [{image: x}]}\n",
		"---\n---\nkind: Pod\nspec: {containers: [{image: x}]}\n---",
		`{"kind": "Pod", "spec": {"containers": [{"image": "x"}]}}`,
		"kind: Pod\nspec: [\n---\nkind: Job\nspec: {template: {spec: {containers: [{image: y}]}}}\n",
		"a: &a 1\n---\nkind: Pod\nb: *a\n",
		"--- !!null\n--- &x\n--- ''\n",
		"---\t{kind: Pod, spec: {containers: [{image: x}]}}\n",
		"kind: Pod\nmetadata: {name: a}\n...\nkind: Pod\nmetadata: {name: b}\nspec: {containers: [{image: x}]}\n",
		"%TAG !e! tag:example.com,2000:\n---\nkind: !e!x Pod\nspec: {containers: [{image: x}]}\n",
		"kind: Pod\nspec: {containers: [{image: x}]}\n%YAML 1.2\n---\nkind: Job\n",
	} {
		t.Run(in, func(t *testing.T) { sameAsParse(t, in) })
	}
}

// TestMapAliasBudget: Map spends the file's alias budget in file order, as
// Parse does, though it reads documents in parallel.
func TestMapAliasBudget(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("kind: Pod\nmetadata: {name: p}\nx: &a [" + strings.TrimSuffix(strings.Repeat("1,", 1000), ",") + "]\ny: [")
	doc.WriteString(strings.TrimSuffix(strings.Repeat("*a,", 200), ","))
	doc.WriteString("]\nspec: {containers: [{name: c, image: x}]}\n")
	plain := "---\nkind: Pod\nmetadata: {name: q}\nspec: {containers: [{name: c, image: y}]}\n"
	// Plain documents around the aliased ones, so the stream is read in
	// parallel chunks while the budget is spent in order.
	in := strings.Repeat(strings.Repeat(plain, 100)+"---\n"+doc.String(), 30)
	got := sameAsParse(t, in)
	aliased := 0
	for _, o := range got {
		if o.Name == "p" {
			aliased++
		}
	}
	if want := MaxAliasedNodesPerFile / 200_200; aliased != want {
		t.Errorf("%d aliased documents read, want %d", aliased, want)
	}
}

// TestPodSpecFastPath: Object.PodSpec gives what workload.DecodePodSpec
// gives, for specs written straight as JSON and for those left to it.
func TestPodSpecFastPath(t *testing.T) {
	for _, spec := range []string{
		"{containers: [{name: c, image: x}]}",
		"{containers: [{name: c, image: 'x:1', ports: [{containerPort: 80}, {containerPort: -1}], args: [\"a\\tb\", \"\\u00e9\\\"q\\\\\", '', null, 007, 1e3, 0x1F, true, True, 1.5, 12345678901234567890]}]}",
		"{containers: [{name: c, image: x}], hostNetwork: true, terminationGracePeriodSeconds: 30, nodeSelector: {kubernetes.io/arch: arm64, b: 'true'}}",
		"{containers: [{name: c, image: x, resources: {limits: {cpu: 500m, memory: 1Gi}, requests: {cpu: 1}}}]}",
		"{containers: [{name: c, image: x}], Containers: [{name: C, image: y}]}",
		"{containers: [{name: c, image: x}], activeDeadlineSeconds: 1.5}",
		"{containers: [{name: c, image: x, ports: [{containerPort: '80'}]}]}",
		"{containers: [{name: c, image: x, env: [{name: A, value: !!str 1}, {name: B, value: !!binary aGk=}]}]}",
		"{containers: [{<<: {name: c}, image: x}]}",
		"{containers: [{name: c, image: x}], 1: a}",
		"{containers: [{name: c, image: x}], overhead: {cpu: 100m}, tolerations: [{key: k, operator: Exists, tolerationSeconds: 10}]}",
		"{containers: [{name: \"\\x01\\x1f\", image: x}]}",
	} {
		t.Run(spec, func(t *testing.T) {
			objs := Parse("f.yaml", []byte("kind: Pod\nspec: "+spec+"\n")).Objects()
			if len(objs) != 1 || objs[0].Spec == nil {
				t.Fatalf("objects %+v", objs)
			}
			want, wantErr := workload.DecodePodSpec(objs[0].Spec.Decode)
			got, err := objs[0].PodSpec()
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("error %v, want %v", err, wantErr)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("PodSpec (-DecodePodSpec +PodSpec):\n%s", d)
			}
		})
	}
	if _, ok := appendJSON(nil, Parse("f", []byte("a: [1, true, null, x]\n")).Docs[0].Root.Content[0]); !ok {
		t.Error("a plain mapping is not written straight as JSON")
	}
}

// TestMapPodSpecCopies: the objects of one Map with the same pod spec get
// equal specs, each its own: a reader changing one changes no other.
func TestMapPodSpecCopies(t *testing.T) {
	doc := "---\nkind: Pod\nspec: {containers: [{name: c, image: x}], tolerations: [{key: k, operator: Exists}]}\n"
	want, err := workload.DecodePodSpec(Parse("f.yaml", []byte(doc)).Objects()[0].Spec.Decode)
	if err != nil {
		t.Fatal(err)
	}
	specs, err := Map("f.yaml", []byte(strings.Repeat(doc, 40)), func(o Object) *corev1.PodSpec {
		spec, err := o.PodSpec()
		if err != nil {
			t.Error(err)
			return nil
		}
		got := spec.DeepCopy()
		spec.Tolerations[0].Key, spec.Containers[0].Name = "changed", "changed"
		return got
	})
	if err != nil || len(specs) != 40 {
		t.Fatalf("%d specs, %v", len(specs), err)
	}
	for i, spec := range specs {
		if d := cmp.Diff(want, spec); d != "" {
			t.Fatalf("spec %d, after the ones before were changed (-want +got):\n%s", i, d)
		}
	}
}
