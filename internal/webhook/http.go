package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"

	admissionv1 "k8s.io/api/admission/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// DefaultMaxRequestBytes is the default cap on an AdmissionReview body.
const DefaultMaxRequestBytes int64 = 4 << 20

// Webhook serves a Handler over HTTP as AdmissionReview v1.
type Webhook struct {
	// Handler answers the decoded requests.
	Handler Handler
	// MaxRequestBytes caps the request body; larger bodies get 413.
	// Zero means DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// Recover answers a request whose Handler panicked with v. Nil admits
	// the request unchanged.
	Recover func(req Request, v any) Response
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
}

var _ http.Handler = (*Webhook)(nil)

// ServeHTTP decodes an AdmissionReview v1, calls the Handler and writes the
// AdmissionReview answer. Bodies it cannot read are refused with a 4xx
// status and a plain-text error (the API server then applies the webhook's
// failurePolicy).
func (wh *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := wh.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	review, code, err := wh.decode(w, r)
	if err != nil {
		log.Warn("bad admission request", "remote", r.RemoteAddr, "status", code, "err", err)
		http.Error(w, "archway webhook: "+err.Error(), code)
		return
	}
	req := Request{AdmissionRequest: *review.Request}
	resp := wh.handle(r.Context(), req)
	if err := resp.complete(req); err != nil {
		log.Error("encode admission response", "uid", req.UID, "err", err)
		resp = Allowed("")
		resp.UID = req.UID
	}
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: &resp.AdmissionResponse}
	body, err := json.Marshal(out)
	if err != nil {
		log.Error("encode admission review", "uid", req.UID, "err", err)
		http.Error(w, "archway webhook: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// handle calls the Handler, turning a panic into wh.Recover's answer.
func (wh *Webhook) handle(ctx context.Context, req Request) (resp Response) {
	defer func() {
		if v := recover(); v != nil {
			if wh.Logger != nil {
				wh.Logger.Error("admission handler panicked", "uid", req.UID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			}
			if wh.Recover != nil {
				resp = wh.Recover(req, v)
				return
			}
			resp = Allowed("")
		}
	}()
	return wh.Handler.Handle(ctx, req)
}

// decode reads the body through the size limit and decodes it.
func (wh *Webhook) decode(w http.ResponseWriter, r *http.Request) (*admissionv1.AdmissionReview, int, error) {
	if r.Method != http.MethodPost {
		return nil, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed, want POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q, want application/json", ct)
		}
	}
	limit := wh.MaxRequestBytes
	if limit <= 0 {
		limit = DefaultMaxRequestBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body larger than %d bytes", limit)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read request body: %w", err)
	}
	if len(body) == 0 {
		return nil, http.StatusBadRequest, errors.New("request body is empty")
	}
	var review admissionv1.AdmissionReview
	if err := utiljson.Unmarshal(body, &review); err != nil { // case-sensitive, as the API server writes it
		return nil, http.StatusBadRequest, fmt.Errorf("decode AdmissionReview: %w", err)
	}
	if gvk := review.GroupVersionKind(); gvk != admissionv1.SchemeGroupVersion.WithKind("AdmissionReview") {
		return nil, http.StatusBadRequest, fmt.Errorf("got %q %q, want admission.k8s.io/v1 AdmissionReview", review.APIVersion, review.Kind)
	}
	if review.Request == nil {
		return nil, http.StatusBadRequest, errors.New("AdmissionReview has no request")
	}
	return &review, http.StatusOK, nil
}
