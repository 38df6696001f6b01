// Command archway takes container workloads to arm64: it tells which
// platforms images support, which workloads can run on arm64, and writes or
// injects the placement that keeps every pod on a node that can run it.
package main

import (
	"context"
	"os"

	"github.com/archwaydev/archway/internal/cli"
)

func main() {
	ctx, stop := cli.WithSignals(context.Background())
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
