package registrytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// InProcess is go-containerregistry's in-process registry served on a
// loopback port.
type InProcess struct {
	// Handler is the registry; serve it again (e.g. behind StartBearer) to
	// share its storage.
	Handler http.Handler
	// Server is the running test server.
	Server *httptest.Server
	// Host is host:port, the registry part of references.
	Host string
}

// StartInProcess starts an in-process registry, closed on cleanup.
func StartInProcess(t testing.TB) *InProcess {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &InProcess{Handler: h, Server: srv, Host: hostOf(t, srv.URL)}
}

// Ref returns the reference host/repo (repo may carry :tag or @digest).
func (r *InProcess) Ref(repo string) string { return r.Host + "/" + repo }

// Bearer serves a registry handler behind Docker token auth: /v2/ requests
// need a bearer token for their repository, and /token (on the same host,
// so go-containerregistry accepts the realm) issues one per requested scope.
type Bearer struct {
	// Server is the running test server.
	Server *httptest.Server
	// Host is host:port, the registry part of references.
	Host string

	users map[string]string
	next  http.Handler

	mu     sync.Mutex
	tokens map[string]string // token → scope
	issued map[string]int    // scope → tokens issued
}

// StartBearer serves next behind token auth, closed on cleanup. With users
// (name → password) the token endpoint needs basic auth; without, it
// gives tokens to anyone.
func StartBearer(t testing.TB, next http.Handler, users map[string]string) *Bearer {
	t.Helper()
	b := &Bearer{users: users, next: next, tokens: map[string]string{}, issued: map[string]int{}}
	b.Server = httptest.NewServer(b)
	t.Cleanup(b.Server.Close)
	b.Host = hostOf(t, b.Server.URL)
	return b
}

// Ref returns the reference host/repo (repo may carry :tag or @digest).
func (b *Bearer) Ref(repo string) string { return b.Host + "/" + repo }

// Tokens returns how many tokens were issued per scope.
func (b *Bearer) Tokens() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int, len(b.issued))
	for k, v := range b.issued {
		out[k] = v
	}
	return out
}

// ServeHTTP issues tokens on /token and checks them on everything else.
func (b *Bearer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		b.token(w, r)
		return
	}
	repo := "" // the repository this request needs a token for; /v2/ needs any token
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v2/"); ok && rest != "" {
		for _, sep := range []string{"/manifests/", "/blobs/", "/tags/"} {
			if i := strings.Index(rest, sep); i >= 0 {
				repo = rest[:i]
				break
			}
		}
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	b.mu.Lock()
	got, ok := b.tokens[tok]
	b.mu.Unlock()
	if !ok || (repo != "" && !covers(got, repo)) {
		want := ""
		if repo != "" {
			want = "repository:" + repo + ":pull"
		}
		ch := fmt.Sprintf(`Bearer realm="%s/token",service="registrytest"`, "http://"+r.Host)
		if want != "" {
			ch += fmt.Sprintf(`,scope="%s"`, want)
		}
		w.Header().Set("WWW-Authenticate", ch)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return
	}
	b.next.ServeHTTP(w, r)
}

func (b *Bearer) token(w http.ResponseWriter, r *http.Request) {
	if len(b.users) > 0 {
		u, p, ok := r.BasicAuth()
		if !ok || b.users[u] == "" || b.users[u] != p {
			w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		q = r.PostForm
	}
	scope := q.Get("scope")
	b.mu.Lock()
	b.issued[scope]++
	tok := fmt.Sprintf("tok-%d-%s", len(b.tokens)+1, url.QueryEscape(scope))
	b.tokens[tok] = scope
	b.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
}

// covers reports whether a token's space-separated scopes include repo.
func covers(scopes, repo string) bool {
	for _, s := range strings.Fields(scopes) {
		if strings.HasPrefix(s, "repository:"+repo+":") {
			return true
		}
	}
	return false
}

func hostOf(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("registrytest: server URL %q: %v", raw, err)
	}
	return u.Host
}
