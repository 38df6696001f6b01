package rewrite

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCustomResourcesAlone: place leaves a Prometheus Operator stack's
// custom resources untouched (their operator schedules the pods) and says
// so in a note for each, while the Deployment beside them is placed.
func TestCustomResourcesAlone(t *testing.T) {
	cr, err := os.ReadFile("../source/kube/testdata/operators/monitoring.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := string(cr) + "---\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec: {containers: [{image: example.com/amd:1}]}\n"
	f, err := testParser.Parse("monitoring.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Apply(testImages, optionsFor("x"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || res.Changes[0].Name != "api" || !res.Changes[0].Changed {
		t.Errorf("changes = %+v, want the Deployment api alone placed", res.Changes)
	}
	if got := string(res.Data); got[:len(cr)] != string(cr) {
		t.Errorf("the custom resources changed:\n%s", got)
	}
	want := []string{
		"line 2: Prometheus main: a custom resource naming images (spec.image, spec.thanos.image) with no pod template, left alone: its operator schedules the pods",
		"line 19: Alertmanager main: a custom resource naming images (spec.image) with no pod template, left alone: its operator schedules the pods",
		"line 47: Database orders: a custom resource naming images (spec.postgresImage, spec.backup.sidecarImage) with no pod template, left alone: its operator schedules the pods",
	}
	if diff := cmp.Diff(want, res.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}
