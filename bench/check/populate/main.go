// Command populate pushes N small, honest images to a registry for the
// check benchmark, mixing OCI indexes (some with buildx attestations),
// Docker manifest lists, and single-platform OCI and Docker manifests, and
// writes their references, one a line.
//
//	populate -registry 127.0.0.1:5000 -ref-host 127.0.0.1:6000 -n 1000 -out refs.txt
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "populate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("populate", flag.ContinueOnError)
	reg := fs.String("registry", "", "registry host:port to push to")
	refHost := fs.String("ref-host", "", "host:port written in the references (default: -registry)")
	n := fs.Int("n", 1000, "number of images")
	out := fs.String("out", "refs.txt", "file to write the references to")
	jobs := fs.Int("jobs", 16, "pushes at once")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the registry to answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *reg == "" || *n < 1 || *jobs < 1 {
		return errors.New("usage: populate -registry HOST:PORT [-ref-host HOST:PORT] [-n N] [-out FILE] [-jobs J]")
	}
	if *refHost == "" {
		*refHost = *reg
	}
	if err := waitFor(ctx, "http://"+*reg+"/v2/", *wait); err != nil {
		return err
	}
	specs := mix(*n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(*jobs)
	for _, s := range specs {
		g.Go(func() error {
			_, err := sandbox.Push(gctx, *reg, s)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var b strings.Builder
	for _, s := range specs {
		b.WriteString(s.Ref(*refHost) + "\n")
	}
	return os.WriteFile(*out, []byte(b.String()), 0o644)
}

// mix returns n image specs in a fixed mix, per ten images: four OCI
// indexes linux/amd64+arm64 (half of them with buildx attestations), two
// Docker manifest lists amd64+arm64+arm/v7, two single-platform OCI amd64,
// one single-platform Docker arm64 and one OCI index with amd64 only.
func mix(n int) []sandbox.Spec {
	amd64, arm64 := platform.LinuxAMD64, platform.LinuxARM64
	armv7 := platform.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	out := make([]sandbox.Spec, n)
	for i := range out {
		img := sandbox.Image{Repo: fmt.Sprintf("bench/svc-%05d", i), Tag: fmt.Sprintf("1.%d", i%7)}
		s := sandbox.Spec{}
		switch i % 10 {
		case 0, 1, 2, 3:
			img.Kind, img.Platforms = sandbox.KindIndex, []platform.Platform{amd64, arm64}
			s.Attest = i%2 == 0
		case 4, 5:
			img.Kind, img.Platforms = sandbox.KindIndex, []platform.Platform{amd64, arm64, armv7}
			s.Docker = true
		case 6, 7:
			img.Kind, img.Platforms = sandbox.KindManifest, []platform.Platform{amd64}
		case 8:
			img.Kind, img.Platforms = sandbox.KindManifest, []platform.Platform{arm64}
			s.Docker = true
		case 9:
			img.Kind, img.Platforms = sandbox.KindIndex, []platform.Platform{amd64}
		}
		s.Image = img
		out[i] = s
	}
	return out
}

// waitFor polls url until it answers 200 or 401.
func waitFor(ctx context.Context, url string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("registry at %s did not answer within %s (last error: %v)", url, d, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
