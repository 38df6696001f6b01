// Command hub serves one in-process registry three ways for the quota
// benchmark: an unmetered port to push to, a Docker-Hub-like origin that
// meters manifest GETs as pulls (registrytest.Hub: ratelimit headers, 429
// TOOMANYREQUESTS past the limit), and an unmetered mirror of the same
// content.
//
//	hub -limit 100 -window 6h -addr-file addrs
//
// addrs gets three lines: push, origin and mirror host:port. On the push
// port, GET /_hub/stats prints the origin's counts ("pulls N", "manifest
// GET N", "manifest HEAD N", "refused N") and POST /_hub/reset makes every
// client's quota whole again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/archwaydev/archway/internal/registrytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hub:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	limit := fs.Int("limit", 100, "pulls per window per client at the origin")
	window := fs.Duration("window", 6*time.Hour, "the quota's window")
	addrFile := fs.String("addr-file", "", "write the push, origin and mirror addresses here, one a line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addrFile == "" {
		return errors.New("-addr-file is required")
	}
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	hub := registrytest.NewHub(reg, *limit, *window)
	push := http.NewServeMux()
	push.HandleFunc("GET /_hub/stats", func(w http.ResponseWriter, r *http.Request) {
		get, pulls := hub.Count(registrytest.ManifestGET), hub.Pulls()
		fmt.Fprintf(w, "pulls\t%d\nmanifest GET\t%d\nmanifest HEAD\t%d\nrefused\t%d\n",
			pulls, get, hub.Count(registrytest.ManifestHEAD), get-pulls)
	})
	push.HandleFunc("POST /_hub/reset", func(w http.ResponseWriter, r *http.Request) { hub.Reset() })
	push.Handle("/", reg)

	var addrs string
	errc := make(chan error, 3)
	var servers []*http.Server
	for _, h := range []http.Handler{push, hub, reg} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addrs += l.Addr().String() + "\n"
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(l) }()
	}
	if err := os.WriteFile(*addrFile, []byte(addrs), 0o644); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	for _, srv := range servers {
		_ = srv.Close()
	}
	return nil
}
