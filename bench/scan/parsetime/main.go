// Command parsetime reads inputs the way `archway scan` does (package
// source: detection, then the matching reader) without looking any image
// up, and prints how long that took, for the scan benchmark:
//
//	parsetime [-runs 3] [-assess] [-cpuprofile FILE] PATH...
//
// It prints one line: workloads, distinct images, and the best wall time
// of -runs reads in milliseconds, tab-separated. With -assess each run
// also judges every workload for linux/arm64 (assess.Assess, every image
// known to support linux/amd64 and linux/arm64), and a fourth field is the
// best wall time of reading and assessing together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/workload"
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
	judge := flag.Bool("assess", false, "also assess the workloads, and time both")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	flag.Parse()
	if flag.NArg() == 0 || *runs < 1 {
		return errors.New("usage: parsetime [-runs N] [-assess] [-cpuprofile FILE] PATH")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var bestRead, bestBoth time.Duration
	var workloads, images int
	for range *runs {
		start := time.Now()
		var all []workload.Workload
		for _, p := range flag.Args() {
			ws, err := source.Read(ctx, p, source.Options{})
			if err != nil {
				return err
			}
			all = append(all, ws...)
		}
		read := time.Since(start)
		results := map[string]lookup.Result{}
		for _, w := range all {
			for _, img := range w.Images() {
				results[img] = lookup.Result{Ref: img, Entries: []lookup.Entry{
					{Platform: platform.LinuxAMD64}, {Platform: platform.LinuxARM64}}}
			}
		}
		workloads, images = len(all), len(results)
		if *judge {
			rep := assess.Assess(all, results, platform.LinuxARM64)
			if len(rep.Workloads) != len(all) {
				return fmt.Errorf("assessed %d workloads of %d", len(rep.Workloads), len(all))
			}
		}
		both := time.Since(start)
		if bestRead == 0 || read < bestRead {
			bestRead = read
		}
		if bestBoth == 0 || both < bestBoth {
			bestBoth = both
		}
	}
	if *judge {
		fmt.Printf("%d\t%d\t%d\t%d\n", workloads, images, bestRead.Milliseconds(), bestBoth.Milliseconds())
		return nil
	}
	fmt.Printf("%d\t%d\t%d\n", workloads, images, bestRead.Milliseconds())
	return nil
}
