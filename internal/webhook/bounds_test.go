package webhook_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/archwaydev/archway/internal/webhook"
)

// TestSlowClients: a client that sends its request body a byte at a time
// loses the connection after ReadTimeout, and no more than MaxConnections
// are served at once (the next waits to be accepted).
func TestSlowClients(t *testing.T) {
	dir := t.TempDir()
	serving := writeCerts(t, dir, time.Now().Add(-time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := webhook.NewServer(ctx, webhook.Config{
		Addr: "127.0.0.1:0", CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		Keychain: authn.NewMultiKeychain(), ReadTimeout: 500 * time.Millisecond, MaxConnections: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(serving.CAPEM)
	dial := func() *tls.Conn {
		c, err := tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	slow := dial()
	fmt.Fprintf(slow, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", webhook.MutatePath)
	start := time.Now()
	var closed bool
	for range 40 { // a byte every 100ms: a request that never ends
		if _, err := slow.Write([]byte(" ")); err != nil {
			closed = true
			break
		}
		time.Sleep(100 * time.Millisecond)
		_ = slow.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := slow.Read(make([]byte, 1)); err == io.EOF {
			closed = true
			break
		}
	}
	if !closed || time.Since(start) > 3*time.Second {
		t.Fatalf("a slow body held the connection for %s (closed %v), want it dropped after the 500ms read timeout", time.Since(start).Round(time.Millisecond), closed)
	}

	// Two connections held open: a third is not served until one goes.
	held := []*tls.Conn{dial(), dial()}
	done := make(chan error, 1)
	go func() {
		c, err := tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: pool})
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a third connection was served while two were held (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting connection was never served after one closed")
	}
}
