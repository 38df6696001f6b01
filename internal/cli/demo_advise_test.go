package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/registry"
	"github.com/archwaydev/archway/internal/sandbox"
)

// TestDemoAdvise: the demo's queue:1.1 gets 2.0, confirmed.
func TestDemoAdvise(t *testing.T) {
	ctx := context.Background()
	s, err := sandbox.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := registry.New(registry.WithoutCache())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := &demoEnv{out: &out, targets: []platform.Platform{platform.LinuxARM64}, server: s, lookup: c}
	if err := adviseDemoImage(ctx, env); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if !strings.Contains(out.String(), "move to "+s.Host+"/demo/queue:2.0 (confirmed") {
		t.Errorf("demo advise does not move queue:1.1 to 2.0:\n%s", out.String())
	}
}
