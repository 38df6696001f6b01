package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kustomize"
)

// Defaults for Limits.
const (
	DefaultTimeout = 60 * time.Second
	DefaultMemory  = 1 << 30 // 1 GiB
)

// MaxRemoteBody is the most a remote resource fetched over HTTP may be.
const MaxRemoteBody = 16 << 20

// Limits bound one render. The zero value is the defaults.
type Limits struct {
	// Timeout is how long the render may take; DefaultTimeout when zero.
	// The caller's context deadline, when sooner, wins.
	Timeout time.Duration
	// Memory is how many bytes the render may use; DefaultMemory when
	// zero.
	Memory int64
}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	return l
}

// ErrTimeout and ErrMemory are wrapped by the error of a render that went
// past its Limits.
var (
	ErrTimeout = errors.New("took longer than the render timeout")
	ErrMemory  = errors.New("used more memory than the render bound")
)

// Helm renders the chart at path with opts in a child process (see the
// package doc) and returns the render, and the child's notes, each naming
// the chart.
func Helm(ctx context.Context, path string, opts helm.Options, lim Limits) (helm.Rendered, []string, error) {
	resp, notes, err := run(ctx, request{Job: jobHelm, Path: path, Helm: opts}, lim)
	for i, n := range notes {
		notes[i] = "helm: chart " + path + ": " + n
	}
	if err != nil {
		return helm.Rendered{}, notes, fmt.Errorf("helm: chart %s: %w", path, err)
	}
	if resp.Err != "" {
		return helm.Rendered{}, notes, errors.New(resp.Err)
	}
	if resp.Helm == nil {
		return helm.Rendered{}, notes, fmt.Errorf("helm: chart %s: the render process answered nothing", path)
	}
	return *resp.Helm, notes, nil
}

// Kustomize builds the kustomization in dir with opts in a child process
// (see the package doc). The warnings of the result include the child's
// notes; they are returned even when the build fails.
func Kustomize(ctx context.Context, dir string, opts kustomize.BuildOptions, lim Limits) (kustomize.Built, error) {
	resp, notes, err := run(ctx, request{Job: jobKustomize, Path: dir, Kustomize: opts}, lim)
	var b kustomize.Built
	if resp.Kustomize != nil {
		b = *resp.Kustomize
	}
	for _, n := range notes {
		b.Warnings = append(b.Warnings, kustomize.DisplayName(dir)+": "+strings.TrimPrefix(n, "# Warning: "))
	}
	switch {
	case err != nil:
		return b, fmt.Errorf("%s: %w", kustomize.DisplayName(dir), err)
	case resp.Err != "":
		return b, errors.New(resp.Err)
	case resp.Kustomize == nil:
		return b, fmt.Errorf("%s: the build process answered nothing", kustomize.DisplayName(dir))
	}
	return b, nil
}

// stderrMax is how much of the child's stderr is kept (its beginning,
// where the runtime's fatal error and kustomize's warnings are).
const stderrMax = 64 << 10

// run serves req in a child process under lim, and returns its answer and
// the lines it wrote on stderr.
func run(ctx context.Context, req request, lim Limits) (response, []string, error) {
	lim = lim.withDefaults()
	exe, err := os.Executable()
	if err != nil {
		return response{}, nil, fmt.Errorf("finding archway's executable to render in: %w", err)
	}
	in, err := json.Marshal(req)
	if err != nil {
		return response{}, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.FormatInt(lim.Memory, 10))
	cmd.Stdin = bytes.NewReader(in)
	stdout := &capped{max: lim.Memory}
	stderr := &head{max: stderrMax}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	isolate(cmd)
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return response{}, nil, ctx.Err()
	case rctx.Err() != nil:
		return response{}, nil, fmt.Errorf("%w (%s; --render-timeout)", ErrTimeout, lim.Timeout)
	case stdout.over:
		return response{}, nil, fmt.Errorf("%w: more than %s of output (--render-memory)", ErrMemory, size(lim.Memory))
	case err != nil && outOfMemory.Match(stderr.buf):
		return response{}, nil, fmt.Errorf("%w (%s; --render-memory)", ErrMemory, size(lim.Memory))
	case err != nil:
		return response{}, nil, fmt.Errorf("the render process failed (%v): %s", err, firstLine(stderr.buf))
	}
	var resp response
	if err := json.Unmarshal(stdout.buf.Bytes(), &resp); err != nil {
		return response{}, nil, fmt.Errorf("the render process answered what is not its protocol (%v): %s", err, firstLine(stderr.buf))
	}
	return resp, notes(stderr.buf), nil
}

// outOfMemory matches the Go runtime's fatal errors when an allocation
// fails (the child past its bound): for the heap, for a new thread's stack
// (with and without cgo), and the race detector's.
var outOfMemory = regexp.MustCompile(`(?m)^(fatal error: (runtime: )?(out of memory|cannot allocate memory)|runtime/cgo: pthread_create failed: Resource temporarily unavailable|runtime: failed to create new OS thread|==\d+==ERROR: ThreadSanitizer.*(failed to allocate|out of memory))`)

// logPrefix is the date and time the standard log package writes.
var logPrefix = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d `)

// notes are the non-empty lines of a child's stderr, log prefixes removed.
func notes(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(logPrefix.ReplaceAllString(l, "")); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// firstLine is the first non-empty line of b, or a word saying it is empty.
func firstLine(b []byte) string {
	if n := notes(b); len(n) > 0 {
		return n[0]
	}
	return "no message"
}

// size writes n bytes as --render-memory takes it ("1Gi", "512Mi").
func size(n int64) string { return resource.NewQuantity(n, resource.BinarySI).String() }

// capped keeps what is written up to max bytes; past that it fails the
// write, which ends the child's output.
type capped struct {
	buf  bytes.Buffer
	max  int64
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if int64(c.buf.Len()+len(p)) > c.max {
		c.over = true
		return 0, errors.New("output over the bound")
	}
	return c.buf.Write(p)
}

// head keeps the first max bytes written and drops the rest.
type head struct {
	buf []byte
	max int
}

func (h *head) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
