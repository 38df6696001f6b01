// Package compose reads Compose files (compose.yaml, docker-compose.yml and
// their override variants) and returns one workload per service: Kind
// "Service", Name the service name, Namespace the project name (the
// top-level `name:`, else the name of the file's directory, normalised the
// way Compose does).
//
// A service's containers are:
//
//   - its `image:`, with the line and column of the value;
//   - when it has a `build:` section (string or map form: context,
//     dockerfile, dockerfile_inline, target, args), the base images of that
//     Dockerfile as read by package dockerfile: stages that run on the
//     builder are [workload.ContainerBuild] containers, the final stage's
//     base is a regular one. With both `build:` and `image:`, `image:` only
//     names the result of the build, so it is not looked up. Relative build
//     contexts are resolved against the directory of the compose file's
//     name; remote (URL or git) contexts cannot be read and are an error.
//
// `platform:` becomes the Platform of the service's containers (those that
// run on the target) and pins the workload: PinnedArchitectures is that
// platform's architecture. `extends:` within the same file is followed;
// YAML anchors, aliases and merge keys (`<<: *common`) work as in Compose.
// A service with neither image nor build (a fragment of an override file)
// is not a workload and is skipped.
//
// # Interpolation
//
// Compose substitutes variables from the environment and a .env file.
// archway's answer must not depend on the shell it runs in, so only the
// defaults written in the file are used: `${VAR:-default}` and
// `${VAR-default}` (nested defaults too) become the default, `${VAR:+alt}`
// becomes empty, `$$` is a literal `$`. A value with a variable that has no
// default (`$VAR`, `${VAR}`, `${VAR:?err}`) is kept exactly as written, so
// its registry lookup fails and the container is reported unknown, never
// guessed.
//
// # Errors
//
// The file is parsed with go.yaml.in/yaml/v3 as yaml.Node, which keeps lines.
// A problem with one service does not hide the others: Read and Parse
// return the workloads they could read together with an errors.Join of
// errors that each name the file and line. Input that is not a compose
// file at all (not a mapping, no `services:`) gives an error wrapping
// [ErrNotCompose].
package compose
