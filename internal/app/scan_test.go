package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/archwaydev/archway/internal/assess"
	"github.com/archwaydev/archway/internal/lookup"
	"github.com/archwaydev/archway/internal/platform"
	"github.com/archwaydev/archway/internal/source"
	"github.com/archwaydev/archway/internal/workload"
)

// startedLookup answers not found and closes started at its first call.
type startedLookup struct {
	once    sync.Once
	started chan struct{}
}

func (l *startedLookup) Lookup(_ context.Context, ref string) lookup.Result {
	l.once.Do(func() { close(l.started) })
	return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseNotFound}}
}

// TestScanLooksUpWhileReading: images are looked up while other inputs are
// still being read. The second reader returns only once a lookup has
// started; a scan that read everything before looking anything up would
// wait for it in vain.
func TestScanLooksUpWhileReading(t *testing.T) {
	first := filepath.Join(t.TempDir(), "first.yaml")
	if err := os.WriteFile(first, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n  containers: [{name: c, image: r/first:1}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &startedLookup{started: make(chan struct{})}
	later := func(context.Context) source.Result {
		select {
		case <-l.started:
		case <-time.After(20 * time.Second):
			t.Error("no lookup started while an input was still being read")
		}
		return source.Result{Workloads: []workload.Workload{{Kind: "Pod", Name: "later", Containers: []workload.Container{{Name: "c", Image: "r/later:1"}}}}}
	}
	rs := []reader{source.Inputs([]string{first}, source.Options{})[0].Read, later}
	in, images := readAndLookUp(t.Context(), rs, l, 2, nil)
	if len(in.Errs) > 0 {
		t.Errorf("errors: %v", in.Errs)
	}
	var ids []string
	for _, w := range in.Workloads {
		ids = append(ids, w.ID())
	}
	if diff := cmp.Diff([]string{"Pod/first", "Pod/later"}, ids); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	if len(images) != 2 {
		t.Errorf("looked up %d images, want 2", len(images))
	}
}

// was asked.
type recordingLookup struct {
	mu    sync.Mutex
	asked []string
}

func (l *recordingLookup) Lookup(_ context.Context, ref string) lookup.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked = append(l.asked, ref)
	return lookup.Result{Ref: ref, Err: &lookup.Error{Ref: ref, Cause: lookup.CauseNetwork, Err: errors.New("offline")}}
}

// TestScanDedupesImages: each distinct image is asked for once, however
// many workloads, containers and files use it, and a failed lookup is
// unknown.
func TestScanDedupesImages(t *testing.T) {
	dir := t.TempDir()
	for i, images := range [][]string{{"r/x:1", "r/y:1"}, {"r/y:1", "r/x:1"}, {"r/z:1", "r/z:1"}, {"r/x:1"}} {
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec:\n  containers:\n", i)
		for j, img := range images {
			fmt.Fprintf(&b, "    - {name: c%d, image: %q}\n", j, img)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d.yaml", i)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	extra := []workload.Workload{{Kind: "Job", Name: "c", Containers: []workload.Container{{Name: "a", Image: "r/z:1"}, {Name: "b", Image: "r/w:1"}}}}
	l := &recordingLookup{}
	var calls int
	var last lookup.Progress
	var rs []reader
	for _, in := range source.Inputs([]string{dir}, source.Options{}) {
		rs = append(rs, in.Read)
	}
	rs = append(rs, func(context.Context) source.Result { return source.Result{Workloads: extra} })
	in, images := readAndLookUp(t.Context(), rs, l, 2, func(p lookup.Progress) {
		calls++
		last = p
	})
	sort.Strings(l.asked)
	if diff := cmp.Diff([]string{"r/w:1", "r/x:1", "r/y:1", "r/z:1"}, l.asked); diff != "" {
		t.Errorf("lookups (-want +got):\n%s", diff)
	}
	if calls != 5 || last != (lookup.Progress{Done: 4, Found: 4, Total: 4}) {
		t.Errorf("progress: %d calls, last %+v; want 5 calls (4 lookups and the close) ending at 4 of 4", calls, last)
	}
	ws := in.Workloads
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.ID())
	}
	if diff := cmp.Diff([]string{"Pod/p0", "Pod/p1", "Pod/p2", "Pod/p3", "Job/c"}, ids); diff != "" {
		t.Errorf("workloads, in input order (-want +got):\n%s", diff)
	}
	rep := assess.Assess(ws, images, platform.LinuxARM64)
	if c := rep.Summary.Workloads; c.Unknown != 5 || c.NotReady != 0 {
		t.Errorf("workload counts = %+v, want 5 unknown, 0 not ready", c)
	}
}
