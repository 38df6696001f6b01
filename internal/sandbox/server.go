package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Server is an in-process registry serving the catalogue on loopback.
type Server struct {
	// Host is the registry's host:port, e.g. "127.0.0.1:41234".
	Host string

	srv  *http.Server
	done chan error
}

// Start serves an in-process registry on a free 127.0.0.1 port, seeds it
// with the catalogue, and returns it. Close stops it.
func Start(ctx context.Context) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen: %w", err)
	}
	s := &Server{
		Host: ln.Addr().String(),
		srv: &http.Server{
			Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0))),
			ReadHeaderTimeout: 10 * time.Second,
		},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	if _, err := Seed(ctx, s.Host); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Close stops the registry at once, closing every connection, and waits
// for it to finish.
func (s *Server) Close() error {
	err := s.srv.Close()
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("sandbox: close: %w", err)
	}
	return nil
}
