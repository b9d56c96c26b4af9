package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzVerifyHeaders feeds arbitrary header values and bodies to the header
// parser and verifier: it must never panic, must only return the package's
// errors, and must accept only what the signer would produce for that body.
func FuzzVerifyHeaders(f *testing.F) {
	f.Add(vectorID, strconv.Itoa(vectorUnix), vectorSignature, vectorPayload)
	f.Add(vectorID, strconv.Itoa(vectorUnix), "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+vectorSignature, vectorPayload)
	f.Add("", "", "", "")
	f.Add("msg.1", "-1", "v1", "{}")
	f.Add("msg", "0001614265330", "v1,,,, v1a,x v2,", "x")
	f.Add("msg", "99999999999999999999", "v1,====", "")
	f.Add("msg\x00", "1614265330", "\tv1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n", vectorPayload)

	v, err := NewVerifier(vectorSecret, fixedClock(vectorTime))
	if err != nil {
		f.Fatal(err)
	}
	signer, err := NewSigner(vectorSecret)
	if err != nil {
		f.Fatal(err)
	}
	known := []error{ErrMissingHeaders, ErrMalformedHeaders, ErrInvalidSignature, ErrTimestampTooOld, ErrTimestampTooNew}
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		h := http.Header{"webhook-id": {id}, "Webhook-Timestamp": {ts}, "WEBHOOK-SIGNATURE": {sig}}
		err := v.Verify(h, []byte(body))
		if err != nil {
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("Verify returned an unclassified error: %v", err)
		}
		// Accepted: the signer must produce a matching entry for these exact values.
		unix, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil {
			t.Fatalf("accepted timestamp %q that does not parse", ts)
		}
		want, serr := signer.Sign(id, time.Unix(unix, 0), []byte(body))
		if serr != nil {
			t.Fatalf("accepted id %q the signer refuses: %v", id, serr)
		}
		if !containsField(sig, want) {
			t.Fatalf("accepted signature header %q without the expected entry %q", sig, want)
		}
	})
}

func containsField(s, want string) bool {
	for _, f := range fieldsOf(s) {
		if f == want {
			return true
		}
	}
	return false
}

func fieldsOf(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

// FuzzParseSecret: never panics; accepted keys are within bounds and sign.
func FuzzParseSecret(f *testing.F) {
	f.Add(vectorSecret)
	f.Add("whsec_")
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw==")
	f.Add("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS")
	f.Add("whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.Fuzz(func(t *testing.T, secret string) {
		key, err := ParseSecret(secret)
		if err != nil {
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
			t.Fatalf("accepted %d-byte key", len(key))
		}
		if _, err := Sign([]string{secret}, "evt_1", vectorTime, nil); err != nil {
			t.Fatalf("parsed secret cannot sign: %v", err)
		}
	})
}
