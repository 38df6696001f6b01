package report

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestHTMLFixFirstInBrowser: in headless Chromium at 1400 px, the images
// to fix first are a table above the workloads, and neither table makes
// the page scroll sideways, even with long references and reasons.
func TestHTMLFixFirstInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	r := fixture()
	long := "registry.example.com/" + strings.Repeat("very-long-team-name/", 6) + "service-with-a-long-name:1.2.3-alpine3.20-amd64"
	r.Workloads[0].Workload.Containers[1].Image = long
	r.Workloads[0].Reasons = append(r.Workloads[0].Reasons, strings.Repeat("a reason that goes on ", 30), long+" lacks linux/arm64; supports "+strings.Repeat("linux/amd64,", 12))
	advice := map[string]string{}
	for _, f := range FixFirst(r, nil) {
		advice[f.Ref] = "move to " + f.Ref + "-next (confirmed); newest with it: " + strings.Repeat("9", 40)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, render(t, HTML, r, append(fixtureOptions, WithAdvice(advice))...), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(file)}).String()
	type layout struct {
		Rows, FixTop, WorkloadsTop, Inner, Page int
		FixWidth, WorkloadsWidth                float64
	}
	js := `(() => {
		const fix = document.getElementById("fix-first"), wl = document.getElementById("workloads");
		return {Rows: fix.tBodies[0].rows.length, FixTop: fix.offsetTop, WorkloadsTop: wl.offsetTop,
			Inner: document.documentElement.clientWidth, Page: document.documentElement.scrollWidth,
			FixWidth: fix.getBoundingClientRect().right, WorkloadsWidth: wl.getBoundingClientRect().right};
	})()`
	if err := chromedp.Do(bctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("#fix-first"))); err != nil {
		t.Fatalf("load %s: %v", u, err)
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[layout](js))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", got)
	if got.Rows != len(advice) || got.Rows == 0 {
		t.Errorf("%d rows in the images table, want %d", got.Rows, len(advice))
	}
	if got.FixTop >= got.WorkloadsTop {
		t.Errorf("the images table (top %d) is not above the workloads (top %d)", got.FixTop, got.WorkloadsTop)
	}
	if got.Page > got.Inner || got.FixWidth > float64(got.Inner) || got.WorkloadsWidth > float64(got.Inner) {
		t.Errorf("sideways overflow at 1400 px: page %d, images table %.0f, workloads table %.0f, viewport %d",
			got.Page, got.FixWidth, got.WorkloadsWidth, got.Inner)
	}
}
