// Command latencyproxy is a reverse proxy for benchmarks: it forwards every
// request to one upstream registry, adding a fixed delay on the way in and
// again on the way out (so each request costs one simulated round trip on
// top of the upstream's own time), and counts requests by kind.
//
//	latencyproxy serve -upstream http://127.0.0.1:5000 -delay 25ms -addr-file addr
//	latencyproxy stats -addr 127.0.0.1:PORT [-reset] [-set-delay 0ms]
//
// The counters are served, without delay, at /_latencyproxy/stats (GET) and
// reset by POST to /_latencyproxy/reset; POST /_latencyproxy/delay?d=10ms
// changes the delay. Connection setup is not delayed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	statsPath = "/_latencyproxy/stats"
	resetPath = "/_latencyproxy/reset"
	delayPath = "/_latencyproxy/delay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "latencyproxy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: latencyproxy serve|stats [flags]")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], out)
	case "stats":
		return stats(ctx, args[1:], out)
	}
	return fmt.Errorf("unknown command %q (want serve or stats)", args[0])
}

func serve(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := fs.String("upstream", "", "upstream registry URL, e.g. http://127.0.0.1:5000")
	delay := fs.Duration("delay", 25*time.Millisecond, "delay added each way (a round trip costs twice this)")
	addrFile := fs.String("addr-file", "", "write the listening address to this file once serving")
	if err := fs.Parse(args); err != nil {
		return err
	}
	up, err := url.Parse(*upstream)
	if err != nil || up.Host == "" {
		return fmt.Errorf("-upstream %q: want a URL like http://127.0.0.1:5000", *upstream)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		return err
	}
	p := newProxy(up, *delay)
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "latencyproxy: %s -> %s, %s each way\n", ln.Addr(), up, *delay)
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// proxy forwards to the upstream with a delay each way and counts requests.
type proxy struct {
	rp    *httputil.ReverseProxy
	delay *atomic.Int64 // nanoseconds

	mu     sync.Mutex
	counts map[string]int
}

func newProxy(up *url.URL, delay time.Duration) *proxy {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 2048, 2048
	p := &proxy{delay: new(atomic.Int64), counts: map[string]int{}}
	p.delay.Store(int64(delay))
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(up)
			r.Out.Host = r.In.Host // keep the client's host, so Location headers point back here
		},
		Transport: delayed{tr, p.delay},
	}
	return p
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case statsPath:
		p.mu.Lock()
		b, _ := json.Marshal(p.counts)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
		return
	case resetPath:
		p.mu.Lock()
		p.counts = map[string]int{}
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	case delayPath:
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			http.Error(w, "want ?d=DURATION", http.StatusBadRequest)
			return
		}
		p.delay.Store(int64(d))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	p.mu.Lock()
	p.counts[kind(r)]++
	p.mu.Unlock()
	p.rp.ServeHTTP(w, r)
}

// kind classifies a registry request: ping, manifest, blob, tags, upload,
// other, each prefixed by the method.
func kind(r *http.Request) string {
	path := r.URL.Path
	k := "other"
	switch {
	case path == "/v2/" || path == "/v2":
		k = "ping"
	case strings.Contains(path, "/manifests/"):
		k = "manifest"
	case strings.Contains(path, "/blobs/uploads"):
		k = "upload"
	case strings.Contains(path, "/blobs/"):
		k = "blob"
	case strings.HasSuffix(path, "/tags/list"):
		k = "tags"
	}
	return r.Method + " " + k
}

// delayed is a RoundTripper that waits delay before sending the request and
// again after the response headers arrive.
type delayed struct {
	base  http.RoundTripper
	delay *atomic.Int64 // nanoseconds
}

func (d delayed) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := sleep(r.Context(), time.Duration(d.delay.Load())); err != nil {
		return nil, err
	}
	resp, err := d.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if err := sleep(r.Context(), time.Duration(d.delay.Load())); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func stats(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	addr := fs.String("addr", "", "the proxy's address")
	reset := fs.Bool("reset", false, "reset the counters instead of printing them")
	asJSON := fs.Bool("json", false, "print the counters as JSON")
	setDelay := fs.String("set-delay", "", "change the delay each way instead of printing the counters")
	if err := fs.Parse(args); err != nil {
		return err
	}
	method, path := http.MethodGet, statsPath
	switch {
	case *reset:
		method, path = http.MethodPost, resetPath
	case *setDelay != "":
		method, path = http.MethodPost, delayPath+"?d="+url.QueryEscape(*setDelay)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+*addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if *reset || *setDelay != "" {
		return nil
	}
	var counts map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&counts); err != nil {
		return fmt.Errorf("stats from %s: %w", *addr, err)
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(counts)
	}
	keys := make([]string, 0, len(counts))
	total := 0
	for k, n := range counts {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "%s\t%d\n", k, counts[k])
	}
	_, err = fmt.Fprintf(out, "total\t%d\n", total)
	return err
}
