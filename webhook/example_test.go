package webhook_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/shiftflow/shiftflow/webhook"
)

// An integrator's endpoint: read the raw body (never a re-encoded JSON
// value), verify it, then deduplicate on webhook-id.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // shown once when the webhook was created

	verifier, err := webhook.NewVerifier(secret)
	if err != nil {
		panic(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := verifier.Verify(r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Printf("accepted %s: %s\n", r.Header.Get(webhook.HeaderID), body)
		w.WriteHeader(http.StatusNoContent)
	})

	// What shiftflow sends.
	body := []byte(`{"type":"approval.instance.approved","id":"evt_01"}`)
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/hooks/shiftflow", bytes.NewReader(body))
	if err := signer.SetHeaders(req.Header, "evt_01", time.Now(), body); err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	// A tampered delivery is refused.
	req = httptest.NewRequest(http.MethodPost, "/hooks/shiftflow", bytes.NewReader([]byte(`{"type":"approval.instance.rejected"}`)))
	_ = signer.SetHeaders(req.Header, "evt_01", time.Now(), body)
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// accepted evt_01: {"type":"approval.instance.approved","id":"evt_01"}
	// 204
	// 401 webhook: no matching signature
}
