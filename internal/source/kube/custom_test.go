package kube

import (
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/workload"
)

// TestParseCustomResources reads what a monitoring stack renders: the
// Prometheus Operator's Prometheus and Alertmanager, whose spec.image the
// operator runs, a ServiceMonitor (no image), a ConfigMap (not a custom
// resource's spec) and another operator's *Image fields. Every image
// string field is an image of its object, at its line.
func TestParseCustomResources(t *testing.T) {
	const file = "testdata/operators/monitoring.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := Parse(file, data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var got []string
	for _, w := range ws {
		for _, c := range w.Containers {
			got = append(got, fmt.Sprintf("%s@%d custom=%v %s(%s)=%s@%s:%d:%d", w.ID(), w.Location.Line, w.CustomResource, c.Name, c.Kind, c.Image, c.Location.File, c.Location.Line, c.Location.Column))
		}
		if w.PodSpec != nil {
			t.Errorf("%s: a PodSpec for a custom resource", w.ID())
		}
	}
	want := []string{
		"Prometheus/monitoring/main@2 custom=true spec.image(custom-resource)=quay.io/prometheus/prometheus:v2.53.0@" + file + ":8:10",
		"Prometheus/monitoring/main@2 custom=true spec.thanos.image(custom-resource)=quay.io/thanos/thanos:v0.35.1@" + file + ":13:12",
		"Alertmanager/monitoring/main@19 custom=true spec.image(custom-resource)=quay.io/prometheus/alertmanager:v0.27.0@" + file + ":25:10",
		"Database/orders@47 custom=true spec.postgresImage(custom-resource)=registry.example.com/postgres:16.3@" + file + ":52:18",
		"Database/orders@47 custom=true spec.backup.sidecarImage(custom-resource)=ghcr.io/example/backup@sha256:3333333333333333333333333333333333333333333333333333333333333333@" + file + ":54:19",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	for _, w := range ws {
		for _, c := range w.Containers {
			if c.Kind != workload.ContainerCustom {
				t.Errorf("%s %s: kind %s, want %s", w.ID(), c.Name, c.Kind, workload.ContainerCustom)
			}
		}
	}
}
