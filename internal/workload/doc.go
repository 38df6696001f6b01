// Package workload is the model every source produces and every later stage
// consumes: a workload (something that runs pods or tasks), where it was
// found, its containers and the images they run, and the scheduling fields
// that already constrain its architecture.
package workload
