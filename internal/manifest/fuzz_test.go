package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/archwaydev/archway/internal/workload"
)

// FuzzManifest: Parse, Objects and Encode never panic; every problem is an
// *Error naming the file; a YAML stream with nothing changed encodes back
// byte for byte; re-encoding every document gives a stream that parses
// with as many objects (and workloads) as the documents read had.
func FuzzManifest(f *testing.F) {
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: x}]\n"))
	f.Add([]byte("# head\n---\nkind: Pod\nspec: {containers: []}\n--- # two\nkind: List\nitems:\n- kind: Job\n  spec: {template: {spec: {containers: [{image: y}]}}}\n"))
	f.Add([]byte(`{"kind": "Pod", "spec": {"containers": [{"image": "x"}]}, "spec": {}}`))
	f.Add([]byte("a: &a [1, 2]\nb: [*a, *a]\nkind: Pod\nspec: {containers: *a}\n"))
	f.Add([]byte("\xef\xbb\xbfkind: Pod\r\nspec:\r\n  containers:\r\n  - image: x\r\n"))
	f.Add([]byte("---\n# c\n---\nkind: Pod\nx: &a {image: x, ports: [{containerPort: 80}]}\nspec: {containers: [*a]}\n--- {kind: Pod, spec: {containers: [*a]}}\n...\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Parse("fuzz.yaml", data)
		objs := s.Objects()
		for _, err := range []error{s.Err()} {
			if err != nil && !bytes.Contains([]byte(err.Error()), []byte("fuzz.yaml")) {
				t.Errorf("error %q does not name the file", err)
			}
		}
		var workloads int
		var want []seen
		for _, o := range objs {
			var me *Error
			if o.Err != nil && !errors.As(o.Err, &me) {
				t.Errorf("object error %v is not an *Error", o.Err)
			}
			if o.Err == nil && o.Spec != nil {
				workloads++
				spec, err := o.PodSpec()
				wantSpec, wantErr := workload.DecodePodSpec(o.Spec.Decode)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(spec, wantSpec) {
					t.Errorf("%s: PodSpec %+v, %v; DecodePodSpec %+v, %v", o.ID(), spec, err, wantSpec, wantErr)
				}
			}
			want = append(want, seenOf(o))
		}
		got, err := Map("fuzz.yaml", data, seenOf)
		if !reflect.DeepEqual(got, want) || fmt.Sprint(err) != fmt.Sprint(s.Err()) {
			t.Errorf("Map gives %+v, %v; Parse and Objects %+v, %v", got, err, want, s.Err())
		}
		out, err := s.Encode()
		if !s.JSON && (err != nil || !bytes.Equal(out, data)) {
			t.Fatalf("unchanged stream encodes to %q, %v; want the input back", out, err)
		}
		if s.Err() != nil {
			return
		}
		for _, d := range s.Docs {
			d.Changed = d.Root != nil
		}
		out, err = s.Encode()
		if err != nil {
			return // some values yaml cannot write back; the caller reports it
		}
		again := Parse("fuzz.yaml", out)
		var n int
		for _, o := range again.Objects() {
			if o.Err == nil && o.Spec != nil {
				n++
			}
		}
		if again.Err() == nil && n != workloads {
			t.Errorf("re-encoded stream has %d workloads, want %d:\n%s", n, workloads, out)
		}
	})
}
