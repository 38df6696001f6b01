// Command parsetime reads inputs the way `archway scan` does (package
// source: detection, then the matching reader) without looking any image
// up, and prints how long that took, for the scan benchmark:
//
//	parsetime [-runs 3] PATH...
//
// It prints one line: workloads, distinct images, and the best wall time
// of -runs reads in milliseconds, tab-separated.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/archwaydev/archway/internal/source"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parsetime:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	runs := flag.Int("runs", 3, "reads to make; the fastest counts")
	flag.Parse()
	if flag.NArg() == 0 || *runs < 1 {
		return errors.New("usage: parsetime [-runs N] PATH")
	}
	var best time.Duration
	var workloads, images int
	for range *runs {
		start := time.Now()
		workloads = 0
		seen := map[string]bool{}
		for _, p := range flag.Args() {
			ws, err := source.Read(ctx, p, source.Options{})
			if err != nil {
				return err
			}
			workloads += len(ws)
			for _, w := range ws {
				for _, img := range w.Images() {
					seen[img] = true
				}
			}
		}
		images = len(seen)
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
	}
	fmt.Printf("%d\t%d\t%d\n", workloads, images, best.Milliseconds())
	return nil
}
