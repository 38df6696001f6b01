package assess

import (
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/workload"
)

// TestAssessPlatformPins: a container pinned to WebAssembly is judged
// against its pin; one pinned to another OS cannot run on linux nodes;
// one whose pin archway cannot read is unknown, with the pin in the reason.
func TestAssessPlatformPins(t *testing.T) {
	images := map[string]lookup.Result{
		"spin:1":   {Ref: "spin:1", Entries: []lookup.Entry{{Platform: platform.Platform{OS: "wasi", Architecture: "wasm"}}}},
		"dotnet:4": {Ref: "dotnet:4", Entries: []lookup.Entry{{Platform: platform.Platform{OS: "windows", Architecture: "amd64"}}}},
		"legacy:2": {Ref: "legacy:2", Entries: []lookup.Entry{{Platform: platform.LinuxAMD64}, {Platform: platform.LinuxARM64}}},
	}
	ws := []workload.Workload{
		{Kind: "Service", Name: "spin", Containers: []workload.Container{{Name: "spin", Image: "spin:1", Platform: platform.MustParse("wasi/wasm")}}},
		{Kind: "Service", Name: "reports", Containers: []workload.Container{{Name: "reports", Image: "dotnet:4", Platform: platform.MustParse("windows/amd64")}}},
		{Kind: "Service", Name: "legacy", Containers: []workload.Container{{Name: "legacy", Image: "legacy:2", UnreadPlatform: "linux/sparc9"}}},
	}
	r := Assess(ws, images, platform.LinuxARM64)
	want := []struct {
		verdict Verdict
		reason  string
	}{
		{Ready, "WebAssembly, run by a wasm runtime on any host architecture"},
		{NotReady, "pinned to windows/amd64 by its source: not a linux platform, so not for linux/arm64 nodes"},
		{Unknown, `pinned by its source to "linux/sparc9", a platform archway does not know`},
	}
	for i, w := range want {
		got := r.Workloads[i]
		if got.Verdict != w.verdict || !strings.Contains(got.Containers[0].Reason, w.reason) {
			t.Errorf("%s: %s, %q; want %s, a reason containing %q", got.Workload.ID(), got.Verdict, got.Containers[0].Reason, w.verdict, w.reason)
		}
	}
}
