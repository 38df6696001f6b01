package workload

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/archwaydev/archway/internal/platform"
)

// SourceKind names the kind of input a workload was read from.
type SourceKind string

// The input kinds archway reads.
const (
	SourceKubernetes SourceKind = "kubernetes" // YAML or JSON manifests
	SourceHelm       SourceKind = "helm"       // a rendered Helm chart
	SourceKustomize  SourceKind = "kustomize"  // a built kustomization
	SourceCluster    SourceKind = "cluster"    // a live cluster's API server
	SourceECS        SourceKind = "ecs"        // ECS task definitions
	SourceCompose    SourceKind = "compose"    // compose files
	SourceDockerfile SourceKind = "dockerfile" // Dockerfile base images
)

// Location is where something was found: a file and a 1-based line and
// column (zero when unknown), or a cluster object for live sources.
type Location struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Approximate is true when File is right but Line (and Column) only
	// near the place: a Helm template that writes the image through a
	// helper, say.
	Approximate bool `json:"approximate,omitempty"`
}

// String formats l as file:line:column, with "~" before an approximate
// line (and no column).
func (l Location) String() string {
	if l.Approximate {
		return fmt.Sprintf("%s:~%d", l.File, l.Line)
	}
	return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Column)
}

// ContainerKind says what role a container plays in its pod.
type ContainerKind string

// Container roles. Every role counts: a workload is ready for a platform
// only when all of its containers are.
const (
	ContainerRegular   ContainerKind = "container"
	ContainerInit      ContainerKind = "init"
	ContainerSidecar   ContainerKind = "sidecar" // an init container with restartPolicy Always
	ContainerEphemeral ContainerKind = "ephemeral"
	ContainerBuild     ContainerKind = "build" // a Dockerfile stage that runs on the builder
	// ContainerCustom is an image named by a field of a custom resource
	// with no pod template (Prometheus.spec.image): its operator runs it.
	ContainerCustom ContainerKind = "custom-resource"
)

// Container is one container of a workload and the image it runs.
type Container struct {
	// Name is the container's name (a compose service, a Dockerfile stage).
	Name string `json:"name"`
	// Kind is the container's role.
	Kind ContainerKind `json:"kind"`
	// Image is the image reference as written in the source.
	Image string `json:"image"`
	// Location is where the image reference is written.
	Location Location `json:"location"`
	// Platform is the platform the source pins this container to (compose
	// `platform:`, Dockerfile `FROM --platform=`); zero when not pinned.
	Platform platform.Platform `json:"platform,omitzero"`
	// UnreadPlatform is the pin as written when it names no platform
	// archway knows (then Platform is zero): the container is judged
	// unknown, with this as the reason, rather than dropped.
	UnreadPlatform string `json:"unreadPlatform,omitempty"`
}

// Workload is one thing that runs containers: a Kubernetes object with a
// pod template, an ECS task definition, a compose project's service set, or
// a Dockerfile's build.
type Workload struct {
	// Source is the kind of input the workload came from.
	Source SourceKind `json:"source"`
	// Location is where the workload is defined (its first line).
	Location Location `json:"location"`
	// APIVersion and Kind are the object's type, e.g. "apps/v1" and
	// "Deployment"; for non-Kubernetes sources Kind names the shape, e.g.
	// "TaskDefinition", "Service", "Dockerfile".
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	// Namespace and Name identify the workload; Namespace may be empty.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Containers are all containers, init and ephemeral included.
	Containers []Container `json:"containers"`
	// PodSpec is the pod template's spec for Kubernetes-shaped workloads;
	// nil for other sources.
	PodSpec *corev1.PodSpec `json:"-"`
	// Builds are the Dockerfiles the workload builds (a compose service's
	// build:), as paths like Location.File.
	Builds []string `json:"builds,omitempty"`
	// CustomResource is true for an object with no pod template whose
	// fields name images (its containers are ContainerCustom): archway
	// judges the images but does not place the object.
	CustomResource bool `json:"customResource,omitempty"`
	// PinnedArchitectures are the CPU architectures the workload is already
	// constrained to (nodeSelector, required node affinity on
	// kubernetes.io/arch, ECS runtimePlatform); nil when unconstrained.
	PinnedArchitectures []string `json:"pinnedArchitectures,omitempty"`
}

// ID is a short human name for the workload: kind/namespace/name.
func (w Workload) ID() string {
	if w.Namespace != "" {
		return w.Kind + "/" + w.Namespace + "/" + w.Name
	}
	return w.Kind + "/" + w.Name
}

// Images returns the distinct image references of w's containers, in order.
func (w Workload) Images() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range w.Containers {
		if c.Image != "" && !seen[c.Image] {
			seen[c.Image] = true
			out = append(out, c.Image)
		}
	}
	return out
}
