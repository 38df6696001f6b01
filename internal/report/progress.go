package report

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/archwaydev/archway/internal/lookup"
)

// progressWidth is the number of cells in the bar.
const progressWidth = 30

// NewProgress returns a progress callback for lookups (lookup.Batch) that
// draws on w, redrawing the same line: while more images may still be
// found, the counts so far ("12 of 40 images found so far looked up");
// once the total is known, a bar ("[=========>     ] 12/40 images"). It
// clears the line when every image is done. When isTTY is false it draws
// nothing: progress is noise in logs and pipes. The callback is safe for
// concurrent use. check and scan share it.
func NewProgress(w io.Writer, isTTY bool) func(lookup.Progress) {
	if !isTTY {
		return func(lookup.Progress) {}
	}
	var mu sync.Mutex
	last := ""
	return func(p lookup.Progress) {
		mu.Lock()
		defer mu.Unlock()
		line := progressLine(p)
		if line == last {
			return
		}
		last = line
		if line == "" {
			fmt.Fprint(w, "\r\x1b[K")
			return
		}
		fmt.Fprintf(w, "\r\x1b[K%s", line)
	}
}

// progressLine is what the progress line shows for p; "" once done.
func progressLine(p lookup.Progress) string {
	switch {
	case p.Total > 0 && p.Done >= p.Total, p.Found == 0:
		return ""
	case p.Total == 0:
		return fmt.Sprintf("%d of %d images found so far looked up", p.Done, p.Found)
	}
	done := min(max(p.Done, 0), p.Total)
	cells := done * progressWidth / p.Total
	bar := strings.Repeat("=", cells) + ">" + strings.Repeat(" ", progressWidth-cells-1)
	return fmt.Sprintf("[%s] %d/%d images", bar, done, p.Total)
}
