package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// TestApproximateLocation: a chart finding whose line is approximate says
// so in every format that shows lines.
func TestApproximateLocation(t *testing.T) {
	const file = "charts/web/templates/deployment.yaml"
	w := workload.Workload{
		Source: workload.SourceHelm, Kind: "Deployment", Name: "web",
		Location: workload.Location{File: file, Line: 3},
		Containers: []workload.Container{{
			Name: "web", Kind: workload.ContainerRegular, Image: "example/web:1",
			Location: workload.Location{File: file, Line: 24, Approximate: true},
		}},
	}
	images := map[string]lookup.Result{"example/web:1": {Ref: "example/web:1", Entries: []lookup.Entry{{Platform: platform.LinuxAMD64}}}}
	r := assess.Assess([]workload.Workload{w}, images, platform.LinuxARM64)

	var js bytes.Buffer
	if err := Render(&js, JSON, r); err != nil {
		t.Fatal(err)
	}
	var rep JSONReport
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if l := rep.Workloads[0].Containers[0].Location; l == nil || l.File != file || l.Line != 24 || !l.Approximate {
		t.Errorf("JSON container location = %+v, want %s line 24, approximate", l, file)
	}
	if l := rep.Workloads[0].Location; l == nil || l.Approximate {
		t.Errorf("JSON workload location = %+v, want exact", l)
	}

	var sarif bytes.Buffer
	if err := Render(&sarif, SARIF, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sarif.String(), `"text": "The line is approximate`) || !strings.Contains(sarif.String(), `"uri": "`+file+`"`) {
		t.Errorf("SARIF lacks the approximate note or the template file:\n%s", sarif.String())
	}

	o := options{}
	if got := o.where(w.Containers[0].Location); got != file+":~24" {
		t.Errorf("where = %q, want %s:~24", got, file)
	}
}
