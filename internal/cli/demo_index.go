package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/archwaydev/archway/internal/platform"
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
	// The digest on stdout is for scripts; the summary on stderr shows it.
	var digest, summary bytes.Buffer
	cmd := newIndexCreateCmd()
	cmd.SetArgs(append([]string{"--no-cache"}, args...))
	cmd.SetIn(strings.NewReader(""))
	cmd.SetOut(&digest)
	cmd.SetErr(&summary)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(ctx)
	if _, werr := env.out.Write(summary.Bytes()); werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("archway index create: %w", err)
	}
	fmt.Fprintf(env.out, "\n$ archway check --platform linux/arm64,linux/amd64 %s\n\n", target)
	rep := checkImages(ctx, env.lookup, []string{target}, []platform.Platform{platform.LinuxARM64, platform.LinuxAMD64}, nil)
	if err := rep.writeTable(env.out, true); err != nil {
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
