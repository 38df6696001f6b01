package webhook_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/archwaydev/archway/internal/webhook"
)

// BenchmarkServeHTTPWarm measures one admission answered from the cache:
// decode, place, patch, encode (no network; bench/webhook measures that).
func BenchmarkServeHTTPWarm(b *testing.B) {
	t := &testing.T{}
	s := &scripted{}
	placer, _ := newPlacer(t, webhook.ModeEnforce, time.Second, webhook.StaticLookups(s.lookup))
	wh := &webhook.Webhook{Handler: placer, Recover: placer.Recover}
	body := review(t, request(t, pod(multiArch, amd64Only), admissionv1.Create))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, webhook.MutatePath, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
