package report

import (
	"context"
	"flag"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/assess"
)

var screenshotCopy = flag.String("screenshot", "", "also write the browser test's screenshot to this path")

// chromiumPath finds the browser; missing, the test skips, or fails in CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (hack/test-deps.sh installs it); CI needs it for the HTML report test")
	}
	t.Skip("chromium is not installed: skipping the HTML report browser test (run hack/test-deps.sh)")
	return ""
}

func TestHTMLInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	r := fixture()
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, render(t, HTML, r, fixtureOptions...), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// Every request the page makes, and every uncaught exception.
	var mu sync.Mutex
	var requests, exceptions []string
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if e := ev.ExceptionDetails.Exception; e != nil {
				msg += " " + e.Description
			}
			exceptions = append(exceptions, msg)
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(file)}).String()
	if err := chromedp.Do(bctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("#workloads"))); err != nil {
		t.Fatalf("load %s: %v", u, err)
	}

	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	eval := func(js string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](js)); err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
	}
	// visibleRows counts the rows the browser lays out, and checks that the
	// "showing N" counter agrees.
	visibleRows := func() int {
		t.Helper()
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](
			`Array.from(document.querySelectorAll("#workloads tbody tr")).filter(tr => tr.offsetParent !== null).length`))
		if err != nil {
			t.Fatal(err)
		}
		if shown := text("#shown"); shown != strconv.Itoa(n) {
			t.Errorf("the page says it shows %s rows, but %d are visible", shown, n)
		}
		return n
	}
	column := func(i int) []string {
		t.Helper()
		cells, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("#workloads tbody tr")).map(tr => tr.cells[`+strconv.Itoa(i)+`].textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		return cells
	}

	t.Run("summary numbers", func(t *testing.T) {
		c := r.Summary.Workloads
		got := map[string]string{}
		for _, id := range []string{"n-total", "n-ready", "n-not-ready", "n-unknown", "n-pinned", "n-images"} {
			got[id] = text("#" + id)
		}
		want := map[string]string{
			"n-total": strconv.Itoa(c.Total), "n-ready": strconv.Itoa(c.Ready), "n-not-ready": strconv.Itoa(c.NotReady),
			"n-unknown": strconv.Itoa(c.Unknown), "n-pinned": strconv.Itoa(c.Pinned), "n-images": strconv.Itoa(r.Summary.Images.Total),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("summary numbers (-report +page):\n%s", diff)
		}
		if n := visibleRows(); n != len(r.Workloads) {
			t.Errorf("%d rows visible, want all %d", n, len(r.Workloads))
		}
		bars, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll(".bar-row").length`))
		if err != nil {
			t.Fatal(err)
		}
		if want := len(r.Summary.ByNamespace) + len(r.Summary.BySource); bars != want {
			t.Errorf("%d chart bars, want one per namespace and source: %d", bars, want)
		}
	})

	t.Run("filter", func(t *testing.T) {
		// "shop": the three workloads in namespace shop, and payments/worker,
		// which runs registry.example.com/shop/api.
		if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.CSS("#filter"), "shop")); err != nil {
			t.Fatal(err)
		}
		if n := visibleRows(); n != 4 {
			t.Errorf("filter shop: %d rows visible, want 4", n)
		}
		eval(`(s => { s.value = "unknown"; s.dispatchEvent(new Event("change")); })(document.getElementById("verdict"))`)
		if n := visibleRows(); n != 1 {
			t.Errorf("filter shop, verdict unknown: %d rows visible, want 1 (CronJob/shop/report)", n)
		}
		eval(`(f => { f.value = ""; f.dispatchEvent(new Event("input")); })(document.getElementById("filter"))`)
		if n := visibleRows(); n != r.Summary.Workloads.Unknown {
			t.Errorf("verdict unknown: %d rows visible, want %d", n, r.Summary.Workloads.Unknown)
		}
		eval(`(s => { s.value = "not-ready"; s.dispatchEvent(new Event("change")); })(document.getElementById("verdict"))`)
		if n := visibleRows(); n != r.Summary.Workloads.NotReady {
			t.Errorf("verdict not-ready: %d rows visible, want %d", n, r.Summary.Workloads.NotReady)
		}
		eval(`(s => { s.value = ""; s.dispatchEvent(new Event("change")); })(document.getElementById("verdict"))`)
		if n := visibleRows(); n != len(r.Workloads) {
			t.Errorf("no filter: %d rows visible, want %d", n, len(r.Workloads))
		}
	})

	t.Run("sort", func(t *testing.T) {
		var ids []string
		for _, wr := range r.Workloads {
			ids = append(ids, wr.Workload.ID())
		}
		if got := column(1); !slices.Equal(got, ids) {
			t.Fatalf("initial order %v, want the report's %v", got, ids)
		}
		slices.SortFunc(ids, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#workloads thead th:nth-child(2)"))); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ids, column(1)); diff != "" {
			t.Errorf("after one click on Workload (-want +got):\n%s", diff)
		}
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#workloads thead th:nth-child(2)"))); err != nil {
			t.Fatal(err)
		}
		slices.Reverse(ids)
		if diff := cmp.Diff(ids, column(1)); diff != "" {
			t.Errorf("after two clicks on Workload (-want +got):\n%s", diff)
		}
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#workloads thead th:nth-child(1)"))); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, v := range assess.Verdicts { // worst first
			for range r.Summary.Workloads.Of(v) {
				want = append(want, verdictLabel(v))
			}
		}
		if diff := cmp.Diff(want, column(0)); diff != "" {
			t.Errorf("after a click on Verdict (-want +got):\n%s", diff)
		}
	})

	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	if *screenshotCopy != "" {
		if err := os.WriteFile(*screenshotCopy, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(exceptions) > 0 {
		t.Errorf("uncaught exceptions in the page: %q", exceptions)
	}
	for _, req := range requests {
		if !strings.HasPrefix(req, "file:") && !strings.HasPrefix(req, "data:") {
			t.Errorf("the page fetched %s: it must be self-contained", req)
		}
	}
	if len(requests) == 0 {
		t.Error("saw no requests at all: the network listener is not working")
	}
}
