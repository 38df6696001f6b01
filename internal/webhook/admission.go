package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Request is one admission request.
type Request struct {
	admissionv1.AdmissionRequest
}

// Response is the answer to one admission request. Patches, when set,
// become the response's JSON patch.
type Response struct {
	admissionv1.AdmissionResponse
	// Patches are the JSON patch operations of a mutating webhook.
	Patches []jsonpatch.JsonPatchOperation
}

// Handler answers admission requests.
type Handler interface {
	// Handle answers req. It must not panic; Webhook recovers if it does.
	Handle(ctx context.Context, req Request) Response
}

// Allowed admits the request unchanged.
func Allowed(reason string) Response {
	r := Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true}}
	if reason != "" {
		r.Result = &metav1.Status{Code: http.StatusOK, Message: reason}
	}
	return r
}

// complete fills in the UID and serialises Patches into Patch.
func (r *Response) complete(req Request) error {
	r.UID = req.UID
	if len(r.Patches) == 0 {
		return nil
	}
	patch, err := json.Marshal(r.Patches)
	if err != nil {
		return fmt.Errorf("encode patch: %w", err)
	}
	r.Patch = patch
	pt := admissionv1.PatchTypeJSONPatch
	r.PatchType = &pt
	return nil
}
