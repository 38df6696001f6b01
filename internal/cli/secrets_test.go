package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reflectingRegistry answers like a proxy or token endpoint that echoes
// the request: with bearer set, the ping sends clients to a token endpoint
// that answers 200 with the request's headers and no token; else the ping
// asks for basic auth and every later request gets a 500 whose body is
// the request's headers.
func reflectingRegistry(t *testing.T, bearer bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/" && bearer:
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="reflect"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/v2/" && r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Basic realm="reflect"`)
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/token":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"echo": r.Header, "note": "no token here"})
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "upstream failed; request was:\nAuthorization: %s\n", r.Header.Get("Authorization"))
			_ = r.Header.Write(w)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestServerEchoedSecretsNotShown: credentials a server echoes in a body
// reach neither stdout nor stderr of check or scan, in any format.
func TestServerEchoedSecretsNotShown(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	const user, pass = "ci", "Echoed-Pa55word"
	secrets := []string{pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	for _, bearer := range []bool{false, true} {
		host := reflectingRegistry(t, bearer)
		ref := host + "/app/api:1.0"
		dir := t.TempDir()
		pod := filepath.Join(dir, "pod.yaml")
		manifest := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\nspec:\n  containers:\n  - name: api\n    image: %s\n", ref)
		if err := os.WriteFile(pod, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		auth := []string{"--no-cache", "--username", user, "--password-stdin", "--registry-auth", host}
		for _, args := range [][]string{
			append([]string{"check", ref}, auth...),
			append([]string{"check", "-o", "json", ref}, auth...),
			append([]string{"scan", pod}, auth...),
			append([]string{"scan", "-o", "json", pod}, auth...),
		} {
			t.Run(fmt.Sprintf("bearer=%v %s", bearer, strings.Join(args[:len(args)-len(auth)], " ")), func(t *testing.T) {
				got := runArchway(t.Context(), pass+"\n", args...)
				if got.code != ExitUnknown {
					t.Errorf("exit code = %d, want %d (unknown)\n%s%s", got.code, ExitUnknown, got.stdout, got.stderr)
				}
				out := got.stdout + got.stderr
				want := "500 Internal Server Error"
				if bearer {
					want = "no token in bearer response"
				}
				if !strings.Contains(out, want) {
					t.Errorf("output does not say %q:\n%s", want, out)
				}
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("output contains the secret %q:\n%s", s, out)
					}
				}
			})
		}
	}
}
