// Package ecs reads Amazon ECS task definitions written as JSON and returns
// one workload per task definition: Kind "TaskDefinition", Name the family
// and, when present, ":revision", one regular container per container
// definition (its name and image), and PinnedArchitectures from
// runtimePlatform.cpuArchitecture (X86_64 → amd64, ARM64 → arm64).
//
// Accepted shapes, in file order:
//
//   - a task definition object, as in a `register-task-definition
//     --cli-input-json` file (it has containerDefinitions);
//   - the output of `aws ecs describe-task-definition`,
//     {"taskDefinition": {...}, "tags": [...]};
//   - a JSON array of either;
//   - a bare array of container definitions, as kept next to Terraform's
//     container_definitions or CloudFormation templates; it is one workload
//     named after the file (its base name without extension).
//
// Image values are kept exactly as written: placeholders such as
// "<IMAGE1_NAME>" or "${IMAGE}" fail their registry lookup and are reported
// unknown, never guessed.
//
// The JSON is read token by token with encoding/json's Decoder, recording
// where each value starts, so every container's Location is the line and
// column of its "image" string and every workload's the line of its object.
//
// # Errors
//
// Malformed JSON is an error naming the file, line and column. A problem
// with one task definition (no family, a container without an image, an
// unknown cpuArchitecture) does not hide the others: Read and Parse return
// the workloads they could read together with an errors.Join of errors
// naming the file and line. JSON that is no task definition at all gives an
// error wrapping [ErrNotTaskDefinition].
package ecs
