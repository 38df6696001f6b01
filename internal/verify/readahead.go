package verify

import (
	"io"
	"sync"
)

// readahead reads r on its own goroutine into a few fixed chunks, so that
// fetching and hashing a blob overlaps with decompressing it on another
// core. It holds at most chunks × size bytes. Close stops the goroutine.
type readahead struct {
	full  chan []byte // chunks with data, in order
	free  chan []byte // empty chunks
	done  chan struct{}
	once  sync.Once
	err   error // set before full is closed
	cur   []byte
	spare []byte // cur's backing chunk, returned to free when drained
}

func newReadahead(r io.Reader, chunks, size int) *readahead {
	ra := &readahead{full: make(chan []byte, chunks), free: make(chan []byte, chunks), done: make(chan struct{})}
	for range chunks {
		ra.free <- make([]byte, size)
	}
	go ra.fill(r)
	return ra
}

func (ra *readahead) fill(r io.Reader) {
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.done:
			return
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			select {
			case ra.full <- buf[:n]:
			case <-ra.done:
				return
			}
		}
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

func (ra *readahead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.spare != nil {
			ra.free <- ra.spare[:cap(ra.spare)]
			ra.spare = nil
		}
		buf, ok := <-ra.full
		if !ok {
			return 0, ra.err
		}
		ra.cur, ra.spare = buf, buf
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the reading goroutine; it does not close r.
func (ra *readahead) Close() error {
	ra.once.Do(func() { close(ra.done) })
	return nil
}
