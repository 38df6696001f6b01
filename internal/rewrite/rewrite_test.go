package rewrite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	goldenfile "github.com/archwaydev/archway/internal/golden"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/placement"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/source/compose"
)

// testParser reads compose files with source/compose, as app does.
var testParser = Parser{Compose: compose.Parse}

var testImages = map[string]lookup.Result{
	"example.com/multi:1":  found(platform.LinuxAMD64, platform.LinuxARM64, platform.Platform{OS: "unknown", Architecture: "unknown"}),
	"example.com/amd:1":    found(platform.LinuxAMD64),
	"example.com/arm:1":    found(platform.LinuxARM64),
	"example.com/v7:1":     found(platform.MustParse("linux/arm/v7")),
	"example.com/broken:1": {Err: errors.New("registry: example.com/broken:1: not found")},
}

// found is a lookup that found the given platforms.
func found(ps ...platform.Platform) lookup.Result {
	var r lookup.Result
	for _, p := range ps {
		r.Entries = append(r.Entries, lookup.Entry{Platform: p})
	}
	return r
}

// optionsFor gives each golden input its options; the file comment says which.
func optionsFor(name string) Options {
	o := Options{Placement: placement.Options{ArmTaint: &corev1.Taint{Key: "arm", Value: "true", Effect: corev1.TaintEffectNoSchedule}}}
	if strings.HasPrefix(name, "nodeselector-prefer") {
		o.Placement.Style = placement.StyleNodeSelector
		o.Placement.Prefer = map[string]int32{"arm64": 80}
	}
	return o
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in.*")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		base := filepath.Base(in)
		name, ext, _ := strings.Cut(base, ".in.")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			f, err := testParser.Parse(in, data)
			if err != nil {
				t.Fatal(err)
			}
			opts := optionsFor(name)
			res, err := f.Apply(testImages, opts)
			if err != nil {
				t.Fatal(err)
			}
			report := renderChanges(res)
			checkGolden(t, filepath.Join("testdata", name+".golden."+ext), res.Data)
			checkGolden(t, filepath.Join("testdata", name+".changes.txt"), []byte(report))

			// Placing the placed file again changes nothing.
			f2, err := testParser.Parse(in, res.Data)
			if err != nil {
				t.Fatalf("the output does not parse: %v", err)
			}
			res2, err := f2.Apply(testImages, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res2.Changed {
				t.Errorf("not idempotent:\n%s", cmp.Diff(string(res.Data), string(res2.Data)))
			}
			checkSemantics(t, in, data, res.Data, opts)
			if !res.Changed && string(res.Data) != string(data) {
				t.Error("unchanged file not returned byte for byte")
			}
		})
	}
}

func renderChanges(res Result) string {
	var b strings.Builder
	for _, c := range res.Changes {
		b.WriteString(c.ID())
		if c.Changed {
			b.WriteString(" changed")
		}
		b.WriteString(" images=" + strings.Join(c.Images, ","))
		b.WriteString("\n")
		for _, s := range c.Summary {
			b.WriteString("  + " + s + "\n")
		}
		for _, s := range c.Findings {
			b.WriteString("  ! " + s + "\n")
		}
		if c.Skipped != "" {
			b.WriteString("  ? " + c.Skipped + "\n")
		}
	}
	for _, n := range res.Notes {
		b.WriteString("note: " + n + "\n")
	}
	return b.String()
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	goldenfile.Check(t, path, got)
}

// checkSemantics decodes every pod spec of the output and compares it with
// what placement computed from the input: the file says what Place said.
func checkSemantics(t *testing.T, name string, in, out []byte, opts Options) {
	t.Helper()
	before, after := &File{Name: name, data: in}, &File{Name: name, data: out}
	hb, err := before.load()
	if err != nil {
		t.Fatal(err)
	}
	ha, err := after.load()
	if err != nil {
		t.Fatal(err)
	}
	kb, ok := hb.(*kubeFile)
	if !ok {
		return
	}
	ka := ha.(*kubeFile)
	if len(kb.pods) != len(ka.pods) {
		t.Fatalf("%d pod specs before, %d after", len(kb.pods), len(ka.pods))
	}
	for i, p := range kb.pods {
		if p.spec == nil { // malformed: left as it was
			if ka.pods[i].spec != nil {
				t.Errorf("%s: malformed in the input, decodes in the output", p.ID())
			}
			continue
		}
		want := placement.Place(p.spec, testImages, opts.Placement).Spec
		if diff := cmp.Diff(want, *ka.pods[i].spec); diff != "" {
			t.Errorf("%s: the written pod spec is not the placed one (-placed +written):\n%s", p.ID(), diff)
		}
	}
}
