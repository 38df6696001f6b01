// Package dockerfile reads a Dockerfile and returns one workload (Kind
// "Dockerfile", Name the file's display name) whose containers are the base
// images its build pulls, each with the line of its FROM instruction.
//
// The file is parsed with BuildKit's own parser and instruction decoder, so
// line continuations, heredocs, the escape directive and quoting behave as
// in `docker build`. On top of that the package does what BuildKit does
// before it resolves a base image:
//
//   - ARG instructions before the first FROM are global build arguments;
//     their defaults (or the values given in [Options.BuildArgs]) are
//     substituted into FROM, `--platform=` and `COPY --from=`. A reference
//     that still holds an unresolved variable after that (for example one
//     using $TARGETARCH, which depends on the build) is kept as written, so
//     its registry lookup fails and it is reported unknown, never guessed.
//   - `FROM <stage>` names an earlier stage, not an image; `FROM scratch` is
//     no image at all.
//   - Only stages the target stage (the last one, or [Options.Target])
//     needs are read: its FROM chain, `COPY --from=` and
//     `RUN --mount=from=`, transitively. BuildKit skips the others.
//   - A stage whose `--platform=` names the build platform ($BUILDPLATFORM,
//     $BUILDOS, $BUILDARCH) runs on the builder, not on the target: its base
//     is a [workload.ContainerBuild] container that does not need the target
//     platform. A stage built FROM such a stage inherits its platform.
//     Every other base, and always the base of the target stage, is a
//     [workload.ContainerRegular] container and must support the target.
//   - A literal `--platform=linux/amd64` becomes the container's Platform.
//
// Images named by `COPY --from=<image>` are pulled for the copying stage's
// platform, so they are containers too (with the line of the COPY).
//
// Parse never panics on bad input; errors name the file and, when BuildKit
// reports one, the line.
package dockerfile
