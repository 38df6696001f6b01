package cli

import (
	"context"
	"fmt"

	"github.com/archwaydev/archway/internal/advisor"
	"github.com/archwaydev/archway/internal/app"
	"github.com/archwaydev/archway/internal/platform"
)

// demoAdviseRef is the catalogue image the advise step asks about: an
// amd64-only tag whose repository gained arm64 in a later release.
const demoAdviseRef = "demo/queue:1.1"

// adviseDemoImage is the demo step that asks 'archway advise' which tag
// of an amd64-only image runs on the target (for demo/queue:1.1, 2.0),
// and shows what the search spent.
func adviseDemoImage(ctx context.Context, env *demoEnv) error {
	ref := env.server.Host + "/" + demoAdviseRef
	target := platform.LinuxARM64
	if len(env.targets) > 0 {
		target = env.targets[0]
	}
	fmt.Fprintf(env.out, `demo/queue:1.1 is amd64-only. advise lists the repository's tags, keeps the
ones of the same scheme above 1.1, probes the newest, then gallops up from 1.1
and bisects, and proves the boundary: the tag it names has %s, the one
before it does not.

$ archway advise --platform %s %s

`, target, target, ref)
	eco, err := advisor.LoadEcosystem()
	if err != nil {
		return err
	}
	res := app.Advise(ctx, env.lookup, []string{ref}, app.AdviseOptions{Target: target, Ecosystem: eco, Jobs: 1})
	if err := advisor.WriteTable(env.out, res.Target, res.Images); err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.out)
	return err
}
