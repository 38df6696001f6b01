package render

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/archwaydev/archway/internal/source/helm"
	"github.com/archwaydev/archway/internal/source/kustomize"
)

// childEnv marks the child process; its value is the memory bound in
// bytes.
const childEnv = "ARCHWAY_RENDER_CHILD"

// The jobs a child does.
const (
	jobHelm      = "helm"
	jobKustomize = "kustomize"
)

// request is what the parent asks of the child.
type request struct {
	Job       string                 `json:"job"`
	Path      string                 `json:"path"`
	Helm      helm.Options           `json:"helm"`
	Kustomize kustomize.BuildOptions `json:"kustomize"`
}

// response is the child's answer: a result, or the error of the job.
type response struct {
	Helm      *helm.Rendered   `json:"helm,omitempty"`
	Kustomize *kustomize.Built `json:"kustomize,omitempty"`
	Err       string           `json:"error,omitempty"`
}

// requestMax bounds the request a child reads.
const requestMax = 16 << 20

// init makes any process started with childEnv the child: it serves its
// one request and exits, before main or the tests run (see the package
// doc).
func init() {
	bound, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	os.Exit(serve(bound, os.Stdin, os.Stdout))
}

// serve reads the request from in, bounds this process's memory, does the
// job and writes the answer to out. It returns the exit code.
func serve(bound string, in io.Reader, out io.Writer) int {
	_ = os.Unsetenv(childEnv) // git and the like are not children of this kind
	n, err := strconv.ParseInt(bound, 10, 64)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "archway render: bad %s=%q\n", childEnv, bound)
		return 3
	}
	data, err := io.ReadAll(io.LimitReader(in, requestMax))
	var req request
	if err == nil {
		err = json.Unmarshal(data, &req)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "archway render: reading the request: %v\n", err)
		return 3
	}
	limitMemory(n)
	var net http.RoundTripper = offline{}
	if req.Job == jobKustomize && req.Kustomize.AllowRemote {
		net = http.DefaultTransport
	}
	http.DefaultTransport = capBodies{next: net, max: MaxRemoteBody}
	var resp response
	switch req.Job {
	case jobHelm:
		r, err := helm.RenderChart(req.Path, req.Helm)
		resp = response{Helm: &r, Err: errString(err)}
	case jobKustomize:
		b, err := kustomize.Build(req.Path, req.Kustomize)
		resp = response{Kustomize: &b, Err: errString(err)}
	default:
		fmt.Fprintf(os.Stderr, "archway render: unknown job %q\n", req.Job)
		return 3
	}
	if err := json.NewEncoder(out).Encode(resp); err != nil {
		fmt.Fprintf(os.Stderr, "archway render: writing the answer: %v\n", err)
		return 1
	}
	return 0
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// offline refuses every request: the network of a child whose job may not
// fetch (a chart, a kustomization without AllowRemote, whose files other
// than resources — patches, generator files — may still be URLs).
type offline struct{}

func (offline) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("%s: %w (archway reads only local files unless --allow-remote is given)", r.URL.Redacted(), kustomize.ErrRemote)
}

// capBodies fails a response body read past max bytes.
type capBodies struct {
	next http.RoundTripper
	max  int64
}

func (c capBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > c.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w", r.URL.Redacted(), errTooLarge)
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, max: c.max, url: r.URL.Redacted()}
	return resp, nil
}

var errTooLarge = fmt.Errorf("remote resource larger than %d MiB", MaxRemoteBody>>20)

// cappedBody is a body that fails once more than max bytes are read.
type cappedBody struct {
	io.ReadCloser
	read, max int64
	url       string
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.read += int64(n); b.read > b.max {
		return n, fmt.Errorf("%s: %w", b.url, errTooLarge)
	}
	return n, err
}
