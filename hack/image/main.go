// Command image builds archway's multi-arch image and pushes it (see
// internal/imagebuild); `make image REGISTRY=... VERSION=...` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/archwaydev/archway/internal/imagebuild"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
)

func main() {
	target := flag.String("target", "", "where to push, REGISTRY/archway:VERSION")
	version := flag.String("version", "dev", "version stamped into the binary")
	platforms := flag.String("platforms", "linux/amd64,linux/arm64", "platforms to build")
	insecure := flag.String("insecure-registry", "", "plain-HTTP registry HOST[:PORT] (a local one)")
	flag.Parse()
	if err := run(*target, *version, *platforms, *insecure); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(target, version, platforms, insecure string) error {
	if target == "" {
		return fmt.Errorf("-target REGISTRY/archway:VERSION is required (make image REGISTRY=...)")
	}
	ps, err := platform.ParseList(platforms)
	if err != nil {
		return err
	}
	opts := []registry.Option{registry.WithoutCache(), registry.WithRequestTimeout(30 * time.Minute)} // a push uploads whole binaries
	if insecure != "" {
		opts = append(opts, registry.WithInsecure(insecure))
	}
	client, err := registry.New(opts...)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := imagebuild.Build(ctx, client, imagebuild.Options{Target: target, Platforms: ps, Version: version})
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s\n", target, res.Digest)
	return nil
}
