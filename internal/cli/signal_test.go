package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignals: a scan interrupted while its lookups hang prints one line
// and exits 130 on SIGINT and 143 on SIGTERM, in a real subprocess.
func TestSignals(t *testing.T) {
	// A registry that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	connected := make(chan struct{}, 1) // a lookup reached the registry: signals are handled by then
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case connected <- struct{}{}:
			default:
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	dir := t.TempDir()
	for i := range 200 {
		pod := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec:\n  containers: [{name: c, image: %s/app%d:1}]\n", i, ln.Addr(), i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d.yaml", i)), []byte(pod), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			cmd := exec.Command(self, "scan", "--no-cache", "--insecure-registry", ln.Addr().String(), "-o", "json", dir)
			cmd.Env = append(os.Environ(), execEnv+"=1", "XDG_CACHE_HOME="+t.TempDir())
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select { // lookups in flight, hanging
			case <-connected:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("no lookup reached the registry in 60s")
			}
			time.Sleep(200 * time.Millisecond)
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("still running 20s after %s", tt.sig)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
				t.Fatalf("exit = %v, want code %d; stderr:\n%s", err, tt.code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "interrupted") {
				t.Errorf("stderr = %q, want one line saying it was interrupted", stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %d bytes, want no report of cancelled lookups", stdout.Len())
			}
		})
	}
}
