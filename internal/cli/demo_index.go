package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/index"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/report"
	"github.com/archwaydev/archway/internal/sandbox"
)

// demoIndexRepo is the repository, in the demo's registry, of the index
// the index step builds.
const demoIndexRepo = "demo/multiarch:1.0"

// indexDemoImages is the demo step that joins two of the catalogue's
// single-platform images (an amd64 one and an arm64 one, as two native CI
// runners would push them) into one multi-arch index by running 'archway
// index create' itself, then checks the result as 'archway check' would.
func indexDemoImages(ctx context.Context, env *demoEnv) error {
	amd, arm, err := demoIndexSources(env.server.Host)
	if err != nil {
		return err
	}
	target := env.server.Host + "/" + demoIndexRepo
	args := []string{"--expect", "linux/amd64,linux/arm64", target, amd, arm}
	fmt.Fprintf(env.out, `Built natively per architecture, an image is two single-platform images.
index create joins them into one multi-arch image, reading each platform from
the image's own config (never from its tag) and failing on a mismatch, a
duplicate, or (with --expect) a platform too many or too few.

$ archway index create %s

`, strings.Join(args, " "))
	res, err := index.Create(ctx, env.lookup, index.Options{
		Target:  target,
		Sources: []index.Source{{Ref: amd}, {Ref: arm}},
		Expect:  []platform.Platform{platform.LinuxAMD64, platform.LinuxARM64},
	})
	if err != nil {
		return fmt.Errorf("archway index create: %w", err)
	}
	for _, n := range res.Notes {
		fmt.Fprintln(env.out, "note:", n)
	}
	writeCreateSummary(env.out, res)
	fmt.Fprintf(env.out, "\n$ archway check -v --platform linux/arm64,linux/amd64 %s\n\n", target)
	targets := []platform.Platform{platform.LinuxARM64, platform.LinuxAMD64}
	rep := app.Check(ctx, env.lookup, []string{target}, app.CheckOptions{Targets: targets, Jobs: 1})
	if err := report.RenderCheck(env.out, report.Table, rep, true); err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.out)
	return err
}

// demoIndexSources picks the catalogue's first single-platform linux/amd64
// and linux/arm64 images.
func demoIndexSources(host string) (amd, arm string, err error) {
	for _, img := range sandbox.Catalog() {
		if img.Kind != sandbox.KindManifest || len(img.Platforms) != 1 {
			continue
		}
		switch p := img.Platforms[0]; {
		case p == platform.LinuxAMD64 && amd == "":
			amd = img.Ref(host)
		case p == platform.LinuxARM64 && arm == "":
			arm = img.Ref(host)
		}
	}
	if amd == "" || arm == "" {
		return "", "", errors.New("the catalogue has no single-platform linux/amd64 and linux/arm64 images")
	}
	return amd, arm, nil
}
