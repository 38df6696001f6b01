package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/archwaydev/archway/internal/lookup"
)

func TestRedactSecrets(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("ci:hunter2hunter2"))
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
	cases := []struct{ in, secret string }{
		{"Authorization: Basic " + basic + "\r\nAccept: */*", basic},
		{"authorization=Bearer abcdefgh12345678", "abcdefgh12345678"},
		{`{"headers":{"Authorization":["Basic ` + basic + `"],"Cookie":["session=s3cr3t-cookie"]}}`, basic},
		{`{"headers":{"Cookie":["session=s3cr3t-cookie"]}}`, "s3cr3t-cookie"},
		{"map[Authorization:[Basic " + basic + "] User-Agent:[archway]]", basic},
		{"Set-Cookie: sid=s3cr3t-cookie; Path=/", "s3cr3t-cookie"},
		{"proxy said: Basic " + basic, basic},
		{"got Bearer " + jwt + " back", jwt},
		{"token " + jwt, jwt},
		{`{"token":"opaque-token-value","expires_in":300}`, "opaque-token-value"},
		{`{"access_token": "opaque-token-value"}`, "opaque-token-value"},
		{"refresh_token=opaque-token-value&x=1", "opaque-token-value"},
		{`{"password":"hunter2hunter2"}`, "hunter2hunter2"},
		{"fetch https://ci:hunter2hunter2@example.invalid/v2/", "hunter2hunter2"},
	}
	for _, tc := range cases {
		got := redactSecrets(tc.in)
		if strings.Contains(got, tc.secret) || !strings.Contains(got, redacted) {
			t.Errorf("redactSecrets(%q) = %q: the secret is left", tc.in, got)
		}
	}
	// Ordinary prose is left alone.
	for _, s := range []string{
		"token for 127.0.0.1:5000/app: GET http://127.0.0.1:5000/token?scope=repository%3Aapp%3Apull&service=registry: UNAUTHORIZED: authentication required",
		"basic credentials for ghcr.io were refused",
		"manifest sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef: unsupported media type",
	} {
		if got := redactSecrets(s); got != s {
			t.Errorf("redactSecrets(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestScrubMessage(t *testing.T) {
	long := "GET http://r/v2/: unexpected status code 500 Internal Server Error: <html>" + strings.Repeat("x", 5000) + "</html>"
	got := scrubMessage(long)
	if !strings.HasPrefix(got, "GET http://r/v2/: unexpected status code 500 Internal Server Error: <html>") || len(got) > 300 {
		t.Errorf("scrubMessage kept %d bytes: %q", len(got), got)
	}
	got = scrubMessage("token for r/app: no token in bearer response:\n{\"echo\": \"Authorization: Basic Y2k6aHVudGVyMg==\"}")
	if strings.Contains(got, "Y2k6aHVudGVyMg==") || strings.Contains(got, "\n") {
		t.Errorf("scrubMessage = %q", got)
	}
	if got := scrubMessage(strings.Repeat("é", 1000)); len(got) > maxErrorMessage+len("… (cut)") {
		t.Errorf("scrubMessage is %d bytes long", len(got))
	}
}

// reflect answers every request with status code, its body the request's
// headers; the registry ping asks for basic auth first.
func reflectServer(t *testing.T, code int, tokenPath string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" && r.Header.Get("Authorization") == "" && tokenPath == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="reflect"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/v2/" && tokenPath != "" {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s%s",service="reflect"`, r.Host, tokenPath))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == tokenPath { // a token endpoint that answers 200, without a token
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"echo": r.Header, "padding": strings.Repeat("padding ", 2000)})
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(code)
		fmt.Fprintf(w, "proxy error; you sent Authorization: %s\n", r.Header.Get("Authorization"))
		_ = r.Header.Write(w)
		fmt.Fprintf(w, "\n%s", strings.Repeat("padding ", 2000))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestServerBodiesRedacted: a proxy that reflects the request headers in a
// 500 body, and a token endpoint that answers 200 with the request quoted
// and no token, put no credential in the error or the logs.
func TestServerBodiesRedacted(t *testing.T) {
	const user, pass = "ci", "Sup3r-Secret-Pa55"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	for _, tc := range []struct {
		name      string
		srv       *httptest.Server
		cause     lookup.Cause
		wantInMsg string
	}{
		{"500 reflecting headers", reflectServer(t, http.StatusInternalServerError, ""), lookup.CauseServerError, "500 Internal Server Error"},
		{"404 reflecting headers", reflectServer(t, http.StatusNotFound, ""), lookup.CauseNotFound, "404 Not Found"},
		{"token endpoint without a token", reflectServer(t, http.StatusInternalServerError, "/token"), lookup.CauseUnknown, "no token in bearer response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := strings.TrimPrefix(tc.srv.URL, "http://")
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, err := New(WithoutCache(), WithLogger(log), WithBasicAuth(host, user, pass), WithRetry(2, 0))
			if err != nil {
				t.Fatal(err)
			}
			res := c.Lookup(context.Background(), host+"/app:v1")
			if res.Err == nil {
				t.Fatal("lookup succeeded")
			}
			msg := res.Err.Error()
			t.Logf("error: %s", msg)
			if got := lookup.CauseOf(res.Err); got != tc.cause {
				t.Errorf("cause = %q, want %q", got, tc.cause)
			}
			if !strings.Contains(msg, tc.wantInMsg) {
				t.Errorf("error %q does not say %q", msg, tc.wantInMsg)
			}
			if len(msg) > maxErrorMessage+100 {
				t.Errorf("error is %d bytes long", len(msg))
			}
			for _, secret := range []string{pass, basic} {
				if strings.Contains(msg+logs.String(), secret) {
					t.Errorf("secret %q in the error or logs:\n%s\n%s", secret, msg, logs.String())
				}
			}
		})
	}
}
