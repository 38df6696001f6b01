package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progressWidth is the number of cells in the bar.
const progressWidth = 30

// NewProgress returns a progress callback (for registry LookupAll) that
// draws a bar on w, e.g. "[=========>     ] 12/40 images", redrawing the
// same line, and clears the line when done reaches total. When isTTY is
// false it draws nothing: progress is noise in logs and pipes. The
// callback is safe for concurrent use.
func NewProgress(w io.Writer, isTTY bool) func(done, total int) {
	if !isTTY {
		return func(int, int) {}
	}
	var mu sync.Mutex
	last := -1
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if total <= 0 {
			return
		}
		done = min(max(done, 0), total)
		if done == total {
			fmt.Fprint(w, "\r\x1b[K")
			last = -1
			return
		}
		cells := done * progressWidth / total
		if done == last {
			return
		}
		last = done
		bar := strings.Repeat("=", cells) + ">" + strings.Repeat(" ", progressWidth-cells-1)
		fmt.Fprintf(w, "\r\x1b[K[%s] %d/%d images", bar, done, total)
	}
}
