package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestProgressTTY(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true)
	p(0, 4)
	p(1, 4)
	p(1, 4) // repeated: not redrawn
	p(2, 4)
	got := b.String()
	want := "\r\x1b[K[>                             ] 0/4 images" +
		"\r\x1b[K[=======>                      ] 1/4 images" +
		"\r\x1b[K[===============>              ] 2/4 images"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	b.Reset()
	p(4, 4)
	if got := b.String(); got != "\r\x1b[K" {
		t.Errorf("done: got %q, want the line cleared", got)
	}
}

func TestProgressNotTTY(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p(1, 2)
	p(2, 2)
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
		go func() { defer wg.Done(); p(i, 100) }()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\r"); n == 0 || n > 50 {
		t.Errorf("drew %d times, want 1..50", n)
	}
}
