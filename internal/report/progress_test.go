package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/archwaydev/archway/internal/lookup"
)

func TestProgressTTY(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true)
	p(lookup.Progress{Done: 0, Found: 4, Total: 4})
	p(lookup.Progress{Done: 1, Found: 4, Total: 4})
	p(lookup.Progress{Done: 1, Found: 4, Total: 4}) // repeated: not redrawn
	p(lookup.Progress{Done: 2, Found: 4, Total: 4})
	got := b.String()
	want := "\r\x1b[K[>                             ] 0/4 images" +
		"\r\x1b[K[=======>                      ] 1/4 images" +
		"\r\x1b[K[===============>              ] 2/4 images"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	b.Reset()
	p(lookup.Progress{Done: 4, Found: 4, Total: 4})
	if got := b.String(); got != "\r\x1b[K" {
		t.Errorf("done: got %q, want the line cleared", got)
	}
}

func TestProgressTotalUnknown(t *testing.T) {
	// While inputs are still read, the total is not known: no bar, no
	// made-up percentage, the counts so far.
	var b bytes.Buffer
	p := NewProgress(&b, true)
	p(lookup.Progress{Done: 148, Found: 150})
	p(lookup.Progress{Done: 150, Found: 400})
	p(lookup.Progress{Done: 150, Found: 400, Total: 400})
	want := "\r\x1b[K148 of 150 images found so far looked up" +
		"\r\x1b[K150 of 400 images found so far looked up" +
		"\r\x1b[K[===========>                  ] 150/400 images"
	if got := b.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestProgressNotTTY(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p(lookup.Progress{Done: 1, Found: 2, Total: 2})
	p(lookup.Progress{Done: 2, Found: 2, Total: 2})
	if b.Len() != 0 {
		t.Errorf("not a terminal: wrote %q", b.String())
	}
}

func TestProgressConcurrent(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true)
	var wg sync.WaitGroup
	for i := 1; i <= 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); p(lookup.Progress{Done: i, Found: 100, Total: 100}) }()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\r"); n == 0 || n > 50 {
		t.Errorf("drew %d times, want 1..50", n)
	}
}
