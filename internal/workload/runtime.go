package workload

// Runtime is what a live cluster says about a workload's pods as they run
// now: the evidence that outranks what registries claim. It is read from
// the pods the workload owns (through ReplicaSets and Jobs) and the nodes
// they are bound to.
type Runtime struct {
	// Pods is how many pods the workload has now.
	Pods int `json:"pods"`
	// Nodes counts the workload's bound pods by the kubernetes.io/arch of
	// their node; a node whose architecture is unknown counts as "".
	Nodes map[string]int `json:"nodes,omitempty"`
	// Running counts, by node architecture, the pods whose every container
	// is running: the architectures the workload is proven to run on.
	Running map[string]int `json:"running,omitempty"`
	// Images are the images actually running, one per container and
	// digest, in pod order.
	Images []RunningImage `json:"images,omitempty"`
	// ExecFormatErrors are the containers that failed to start with
	// "exec format error": a binary for another architecture.
	ExecFormatErrors []ExecFormatError `json:"execFormatErrors,omitempty"`
}

// RunningImage is an image a container runs, as its status reports it.
type RunningImage struct {
	Container string `json:"container"`
	// Image is the image as the kubelet reports it; ImageID is the
	// resolved digest (status.containerStatuses[].imageID).
	Image   string `json:"image"`
	ImageID string `json:"imageID"`
}

// ExecFormatError is one container that failed with exec format error.
type ExecFormatError struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Node      string `json:"node,omitempty"`
	// Architecture is the kubernetes.io/arch of Node.
	Architecture string `json:"architecture,omitempty"`
	// Message is the waiting or termination reason and message that say so.
	Message string `json:"message"`
}
