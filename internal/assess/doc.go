// Package assess turns workloads and what the registry said about their
// images into verdicts against a target platform: ready, not ready or
// unknown, per container and per workload, with the reasons, and a summary
// grouped by namespace and by source.
//
// It is pure: no I/O. The caller looks the images up (package registry)
// and passes the results in as a map from image reference to ImageResult.
//
// The rules:
//   - A container is ready when its image supports its platform: the
//     container's own pin (compose platform:, FROM --platform=) when it has
//     one, else the target. It is not ready when the image's platforms are
//     known and none satisfies it, and unknown when the lookup failed, was
//     not made, or reported no platforms. A failed lookup is never "not
//     ready".
//   - Build containers (Dockerfile builder stages) run on the build host:
//     they are judged and reported but never decide the workload's verdict.
//   - A workload is not ready when any of its other containers (init,
//     sidecar and ephemeral included) is not ready, else unknown when any
//     is unknown, else ready.
//   - A workload is pinned when it already constrains kubernetes.io/arch
//     (Workload.PinnedArchitectures is non-nil) or a container pins its
//     platform. The pin is reported, checked against the images, and when
//     the pin excludes the target although every image supports it, the
//     workload is marked as one that could move.
package assess
