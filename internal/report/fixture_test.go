package report

import (
	"errors"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// fixture is a report over one workload of every source, with init,
// sidecar, ephemeral and build containers, pins, and failed lookups.
func fixture() assess.Report {
	amd64, arm64 := platform.LinuxAMD64, platform.LinuxARM64
	images := map[string]lookup.Result{
		"registry.example.com/shop/api:1.4":     found("registry.example.com/shop/api:1.4", "sha256:1111", amd64, arm64),
		"registry.example.com/shop/migrate:2.0": found("registry.example.com/shop/migrate:2.0", "sha256:2222", amd64),
		"nginx:1.27":                            found("nginx:1.27", "sha256:3333", amd64, arm64, platform.MustParse("linux/arm/v7")),
		"envoyproxy/envoy:v1.31":                found("envoyproxy/envoy:v1.31", "sha256:4444", amd64, arm64),
		"private.example.com/data/postgres:16": {Ref: "private.example.com/data/postgres:16",
			Err: &lookup.Error{Ref: "private.example.com/data/postgres:16", Cause: lookup.Cause("unauthorized"), Err: errors.New("authentication required")}},
		"busybox:1.36": found("busybox:1.36", "sha256:5555", amd64, arm64),
		"registry.example.com/tools/debug:latest": {Ref: "registry.example.com/tools/debug:latest",
			Err: &lookup.Error{Ref: "registry.example.com/tools/debug:latest", Cause: lookup.Cause("timeout"), Err: errors.New("context deadline exceeded")}},
		"registry.example.com/billing/app:3": found("registry.example.com/billing/app:3", "sha256:6666", amd64),
		"redis:7":                            found("redis:7", "sha256:7777", amd64),
		"golang:1.23":                        found("golang:1.23", "sha256:8888", amd64),
		"gcr.io/distroless/static:nonroot":   found("gcr.io/distroless/static:nonroot", "sha256:9999", amd64, arm64),
		"registry.example.com/shop/report:9": {Ref: "registry.example.com/shop/report:9",
			Err: &lookup.Error{Ref: "registry.example.com/shop/report:9", Cause: lookup.Cause("not found"), Err: errors.New("MANIFEST_UNKNOWN")}},
	}
	at := func(file string, line, col int) workload.Location {
		return workload.Location{File: file, Line: line, Column: col}
	}
	c := func(kind workload.ContainerKind, name, image string, l workload.Location) workload.Container {
		return workload.Container{Name: name, Kind: kind, Image: image, Location: l}
	}
	redis := c(workload.ContainerRegular, "redis", "redis:7", at("/src/compose.yaml", 9, 12))
	redis.Platform = amd64
	ws := []workload.Workload{
		{Source: workload.SourceKubernetes, Location: at("deploy/api.yaml", 1, 1), APIVersion: "apps/v1", Kind: "Deployment",
			Namespace: "shop", Name: "api", Containers: []workload.Container{
				c(workload.ContainerInit, "migrate", "registry.example.com/shop/migrate:2.0", at("deploy/api.yaml", 18, 18)),
				c(workload.ContainerRegular, "api", "registry.example.com/shop/api:1.4", at("deploy/api.yaml", 22, 18)),
			}},
		{Source: workload.SourceKubernetes, Location: at("deploy/web.yaml", 1, 1), APIVersion: "apps/v1", Kind: "Deployment",
			Namespace: "shop", Name: "web", Containers: []workload.Container{
				c(workload.ContainerRegular, "web", "nginx:1.27", at("deploy/web.yaml", 20, 18)),
				c(workload.ContainerSidecar, "envoy", "envoyproxy/envoy:v1.31", at("deploy/web.yaml", 16, 18)),
			}},
		{Source: workload.SourceKubernetes, Location: at("deploy/report.yaml", 1, 1), APIVersion: "batch/v1", Kind: "CronJob",
			Namespace: "shop", Name: "report", Containers: []workload.Container{
				c(workload.ContainerRegular, "report", "registry.example.com/shop/report:9", at("deploy/report.yaml", 19, 22)),
			}},
		{Source: workload.SourceHelm, Location: at("charts/db/templates/statefulset.yaml", 2, 1), APIVersion: "apps/v1", Kind: "StatefulSet",
			Namespace: "data", Name: "postgres", Containers: []workload.Container{
				c(workload.ContainerInit, "init-perms", "busybox:1.36", at("charts/db/templates/statefulset.yaml", 24, 18)),
				c(workload.ContainerRegular, "postgres", "private.example.com/data/postgres:16", at("charts/db/templates/statefulset.yaml", 30, 18)),
			}},
		{Source: workload.SourceKustomize, Location: at("overlays/prod/kustomization.yaml", 1, 1), APIVersion: "apps/v1", Kind: "Deployment",
			Namespace: "payments", Name: "worker", PinnedArchitectures: []string{"amd64"}, Containers: []workload.Container{
				c(workload.ContainerRegular, "worker", "registry.example.com/shop/api:1.4", at("base/worker.yaml", 21, 18)),
			}},
		{Source: workload.SourceCluster, APIVersion: "v1", Kind: "Pod", Namespace: "kube-system", Name: "debug-pod",
			Containers: []workload.Container{
				c(workload.ContainerRegular, "shell", "busybox:1.36", workload.Location{}),
				c(workload.ContainerEphemeral, "debugger", "registry.example.com/tools/debug:latest", workload.Location{}),
			}},
		{Source: workload.SourceECS, Location: at("ecs/billing.json", 2, 3), Kind: "TaskDefinition", Name: "billing",
			PinnedArchitectures: []string{"amd64"}, Containers: []workload.Container{
				c(workload.ContainerRegular, "app", "registry.example.com/billing/app:3", at("ecs/billing.json", 8, 16)),
			}},
		{Source: workload.SourceCompose, Location: at("/src/compose.yaml", 8, 3), Kind: "Service", Name: "redis",
			Containers: []workload.Container{redis}},
		{Source: workload.SourceDockerfile, Location: at("Dockerfile", 1, 1), Kind: "Dockerfile", Name: "Dockerfile",
			Containers: []workload.Container{
				c(workload.ContainerBuild, "build", "golang:1.23", at("Dockerfile", 1, 6)),
				c(workload.ContainerRegular, "final", "gcr.io/distroless/static:nonroot", at("Dockerfile", 7, 6)),
			}},
	}
	return assess.Assess(ws, images, arm64)
}

// fixtureOptions are the options the golden files are rendered with.
var fixtureOptions = []Option{WithBaseDir("/src"), WithToolVersion("v0.0.0-test")}

// found is a lookup of ref that found the given platforms.
func found(ref, digest string, ps ...platform.Platform) lookup.Result {
	r := lookup.Result{Ref: ref, Digest: digest}
	for _, p := range ps {
		r.Entries = append(r.Entries, lookup.Entry{Platform: p})
	}
	return r
}
