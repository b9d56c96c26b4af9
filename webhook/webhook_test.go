package webhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test vector published with the Standard Webhooks reference libraries
// (libraries/go/webhook_test.go, TestWebhookSign).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorUnix      = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vectorTime = time.Unix(vectorUnix, 0)

func fixedClock(t time.Time) Option { return WithClock(func() time.Time { return t }) }

func vectorHeaders() http.Header {
	h := http.Header{}
	h.Set(HeaderID, vectorID)
	h.Set(HeaderTimestamp, strconv.Itoa(vectorUnix))
	h.Set(HeaderSignature, vectorSignature)
	return h
}

func TestSignMatchesPublishedVector(t *testing.T) {
	got, err := Sign([]string{vectorSecret}, vectorID, vectorTime, []byte(vectorPayload))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSignature {
		t.Fatalf("Sign = %q, want %q", got, vectorSignature)
	}
	// The prefix is optional, as in the reference libraries.
	got, err = Sign([]string{strings.TrimPrefix(vectorSecret, SecretPrefix)}, vectorID, vectorTime, []byte(vectorPayload))
	if err != nil || got != vectorSignature {
		t.Fatalf("Sign without prefix = %q, %v", got, err)
	}
}

func TestVerifyPublishedVector(t *testing.T) {
	v, err := NewVerifier(vectorSecret, fixedClock(vectorTime.Add(90*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(vectorHeaders(), []byte(vectorPayload)); err != nil {
		t.Fatalf("published vector rejected: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	v, err := NewVerifier(vectorSecret, fixedClock(vectorTime))
	if err != nil {
		t.Fatal(err)
	}
	otherSig, err := Sign([]string{NewSecret()}, vectorID, vectorTime, []byte(vectorPayload))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		edit   func(h http.Header)
		body   string
		target error
	}{
		{"tampered body", nil, `{"test": 2432232315}`, ErrInvalidSignature},
		{"body with trailing newline", nil, vectorPayload + "\n", ErrInvalidSignature},
		{"tampered id", func(h http.Header) { h.Set(HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJel") }, vectorPayload, ErrInvalidSignature},
		{"tampered timestamp", func(h http.Header) { h.Set(HeaderTimestamp, strconv.Itoa(vectorUnix+1)) }, vectorPayload, ErrInvalidSignature},
		{"signature from another secret", func(h http.Header) { h.Set(HeaderSignature, otherSig) }, vectorPayload, ErrInvalidSignature},
		{"only unknown versions", func(h http.Header) {
			h.Set(HeaderSignature, "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
		}, vectorPayload, ErrInvalidSignature},
		{"signature not base64", func(h http.Header) { h.Set(HeaderSignature, "v1,!!!!") }, vectorPayload, ErrInvalidSignature},
		{"truncated signature", func(h http.Header) { h.Set(HeaderSignature, vectorSignature[:len(vectorSignature)-4]) }, vectorPayload, ErrInvalidSignature},
		{"signature without comma", func(h http.Header) { h.Set(HeaderSignature, "v1g0hM9SsE") }, vectorPayload, ErrInvalidSignature},
		{"missing id", func(h http.Header) { h.Del(HeaderID) }, vectorPayload, ErrMissingHeaders},
		{"missing timestamp", func(h http.Header) { h.Del(HeaderTimestamp) }, vectorPayload, ErrMissingHeaders},
		{"missing signature", func(h http.Header) { h.Del(HeaderSignature) }, vectorPayload, ErrMissingHeaders},
		{"blank signature", func(h http.Header) { h.Set(HeaderSignature, "  ") }, vectorPayload, ErrMissingHeaders},
		{"timestamp not a number", func(h http.Header) { h.Set(HeaderTimestamp, "1614265330.0") }, vectorPayload, ErrMalformedHeaders},
		{"timestamp with sign", func(h http.Header) { h.Set(HeaderTimestamp, "+1614265330") }, vectorPayload, ErrMalformedHeaders},
		{"timestamp with leading zero", func(h http.Header) { h.Set(HeaderTimestamp, "01614265330") }, vectorPayload, ErrMalformedHeaders},
		{"timestamp overflows", func(h http.Header) { h.Set(HeaderTimestamp, "9999999999999999999") }, vectorPayload, ErrMalformedHeaders},
		{"id with dot", func(h http.Header) { h.Set(HeaderID, "msg.1") }, vectorPayload, ErrMalformedHeaders},
		{"id repeated", func(h http.Header) { h.Add(HeaderID, "msg_other") }, vectorPayload, ErrMalformedHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := vectorHeaders()
			if tt.edit != nil {
				tt.edit(h)
			}
			err := v.Verify(h, []byte(tt.body))
			if !errors.Is(err, tt.target) {
				t.Fatalf("Verify = %v, want %v", err, tt.target)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	tests := []struct {
		name      string
		now       time.Time
		tolerance time.Duration
		target    error
	}{
		{"exactly default tolerance behind", vectorTime.Add(DefaultTolerance), 0, nil},
		{"one second past default tolerance", vectorTime.Add(DefaultTolerance + time.Second), 0, ErrTimestampTooOld},
		{"exactly default tolerance ahead", vectorTime.Add(-DefaultTolerance), 0, nil},
		{"sender clock one second too fast", vectorTime.Add(-DefaultTolerance - time.Second), 0, ErrTimestampTooNew},
		{"a day old", vectorTime.Add(24 * time.Hour), 0, ErrTimestampTooOld},
		{"custom tolerance accepts", vectorTime.Add(29 * time.Minute), 30 * time.Minute, nil},
		{"custom tolerance rejects", vectorTime.Add(31 * time.Minute), 30 * time.Minute, ErrTimestampTooOld},
		{"tight tolerance rejects", vectorTime.Add(11 * time.Second), 10 * time.Second, ErrTimestampTooOld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []Option{fixedClock(tt.now)}
			if tt.tolerance != 0 {
				opts = append(opts, WithTolerance(tt.tolerance))
			}
			v, err := NewVerifier(vectorSecret, opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = v.Verify(vectorHeaders(), []byte(vectorPayload))
			if tt.target == nil && err != nil {
				t.Fatalf("Verify = %v, want success", err)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Fatalf("Verify = %v, want %v", err, tt.target)
			}
		})
	}
}

func TestStaleForgeryReportsSignatureNotAge(t *testing.T) {
	v, err := NewVerifier(vectorSecret, fixedClock(vectorTime.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	err = v.Verify(vectorHeaders(), []byte("forged"))
	if !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("Verify = %v, want ErrInvalidSignature", err)
	}
}

func TestRotationSignsWithBothSecrets(t *testing.T) {
	oldSecret, newSecret := NewSecret(), NewSecret()
	now := time.Now()
	body := []byte(`{"type":"approval.instance.approved"}`)
	s, err := NewSigner(newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if err := s.SetHeaders(h, "evt_01J", now, body); err != nil {
		t.Fatal(err)
	}
	entries := strings.Split(h.Get(HeaderSignature), " ")
	if len(entries) != 2 {
		t.Fatalf("want 2 signatures, header %q", h.Get(HeaderSignature))
	}
	for _, e := range entries {
		if !strings.HasPrefix(e, "v1,") {
			t.Fatalf("entry %q lacks v1 prefix", e)
		}
	}
	for name, secret := range map[string]string{"old": oldSecret, "new": newSecret} {
		if err := Verify(secret, h, body); err != nil {
			t.Errorf("%s secret: %v", name, err)
		}
	}
	if err := Verify(NewSecret(), h, body); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("unrelated secret: %v, want ErrInvalidSignature", err)
	}
	// Each entry is exactly the single-secret signature.
	for i, secret := range []string{newSecret, oldSecret} {
		single, err := Sign([]string{secret}, "evt_01J", now, body)
		if err != nil {
			t.Fatal(err)
		}
		if entries[i] != single {
			t.Errorf("entry %d = %q, want %q", i, entries[i], single)
		}
	}
}

func TestVerifyHeaderNamesAnyCase(t *testing.T) {
	v, err := NewVerifier(vectorSecret, fixedClock(vectorTime))
	if err != nil {
		t.Fatal(err)
	}
	// Built by hand, bypassing http.Header's canonicalisation.
	for _, names := range [][3]string{
		{"webhook-id", "webhook-timestamp", "webhook-signature"},
		{"WEBHOOK-ID", "WEBHOOK-TIMESTAMP", "WEBHOOK-SIGNATURE"},
		{"Webhook-Id", "webhook-Timestamp", "wEbHoOk-SiGnAtUrE"},
	} {
		h := http.Header{
			names[0]: {vectorID},
			names[1]: {strconv.Itoa(vectorUnix)},
			names[2]: {vectorSignature},
		}
		if err := v.Verify(h, []byte(vectorPayload)); err != nil {
			t.Errorf("names %v: %v", names, err)
		}
	}
	// The same header under two spellings counts as repeated.
	h := vectorHeaders()
	h["webhook-id"] = []string{"msg_other"}
	if err := v.Verify(h, []byte(vectorPayload)); !errors.Is(err, ErrMalformedHeaders) {
		t.Errorf("id under two spellings: %v, want ErrMalformedHeaders", err)
	}
}

func TestVerifyMultipleSignatureEntries(t *testing.T) {
	v, err := NewVerifier(vectorSecret, fixedClock(vectorTime))
	if err != nil {
		t.Fatal(err)
	}
	wrong := "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	for _, sig := range []string{
		wrong + " v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== " + vectorSignature,
		vectorSignature + " " + wrong,
		"garbage  " + vectorSignature + "\t" + wrong,
	} {
		h := vectorHeaders()
		h.Set(HeaderSignature, sig)
		if err := v.Verify(h, []byte(vectorPayload)); err != nil {
			t.Errorf("header %q: %v", sig, err)
		}
	}
	// Several header lines are one list.
	h := vectorHeaders()
	h.Set(HeaderSignature, wrong)
	h.Add(HeaderSignature, vectorSignature)
	if err := v.Verify(h, []byte(vectorPayload)); err != nil {
		t.Errorf("signature split over two header lines: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		s := NewSecret()
		if !strings.HasPrefix(s, SecretPrefix) {
			t.Fatalf("secret %q lacks prefix", s)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
		if err != nil {
			t.Fatalf("secret not base64: %v", err)
		}
		if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
			t.Fatalf("key length %d", len(key))
		}
		if seen[s] {
			t.Fatalf("duplicate secret %q", s)
		}
		seen[s] = true
	}
}

func TestParseSecret(t *testing.T) {
	key24 := base64.StdEncoding.EncodeToString(make([]byte, 24))
	key64 := base64.StdEncoding.EncodeToString(make([]byte, 64))
	tests := []struct {
		name   string
		secret string
		want   int // key length, 0 for an error
	}{
		{"vector", vectorSecret, 24},
		{"24 bytes", SecretPrefix + key24, 24},
		{"64 bytes", SecretPrefix + key64, 64},
		{"no prefix", key24, 24},
		{"unpadded", SecretPrefix + base64.RawStdEncoding.EncodeToString(make([]byte, 32)), 32},
		{"23 bytes", SecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, 23)), 0},
		{"65 bytes", SecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, 65)), 0},
		{"empty", "", 0},
		{"prefix only", SecretPrefix, 0},
		{"not base64", SecretPrefix + "not*base64*at*all*but*long*enough", 0},
		{"url alphabet", SecretPrefix + strings.Repeat("-_", 16), 0},
		{"asymmetric key prefix", "whsk_" + key24, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParseSecret(tt.secret)
			if tt.want == 0 {
				if !errors.Is(err, ErrInvalidSecret) {
					t.Fatalf("ParseSecret = %d bytes, %v; want ErrInvalidSecret", len(key), err)
				}
				if enc := strings.TrimPrefix(tt.secret, SecretPrefix); enc != "" && strings.Contains(err.Error(), enc) {
					t.Fatalf("error %q echoes the secret", err)
				}
				return
			}
			if err != nil || len(key) != tt.want {
				t.Fatalf("ParseSecret = %d bytes, %v; want %d", len(key), err, tt.want)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		id      string
		target  error
		inMsg   string
	}{
		{"no secrets", nil, "evt_1", ErrInvalidSecret, "no secrets"},
		{"second secret bad", []string{vectorSecret, "whsec_short"}, "evt_1", ErrInvalidSecret, "secret 2 of 2"},
		{"empty id", []string{vectorSecret}, "", ErrInvalidID, "empty"},
		{"dot in id", []string{vectorSecret}, "evt.1", ErrInvalidID, "'.'"},
		{"newline in id", []string{vectorSecret}, "evt\n1", ErrInvalidID, "byte 3"},
		{"space in id", []string{vectorSecret}, "evt 1", ErrInvalidID, "byte 3"},
	}
	if _, err := Sign([]string{vectorSecret}, "evt_1", time.Unix(-1, 0), nil); err == nil || !strings.Contains(err.Error(), "before 1970") {
		t.Errorf("Sign before 1970 = %v, want an error", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sign(tt.secrets, tt.id, vectorTime, nil)
			if !errors.Is(err, tt.target) || !strings.Contains(err.Error(), tt.inMsg) {
				t.Fatalf("Sign = %v, want %v mentioning %q", err, tt.target, tt.inMsg)
			}
		})
	}
}

func TestNewVerifierRejectsBadOptions(t *testing.T) {
	if _, err := NewVerifier(vectorSecret, WithTolerance(0)); err == nil {
		t.Error("zero tolerance accepted")
	}
	if _, err := NewVerifier(vectorSecret, WithTolerance(-time.Second)); err == nil {
		t.Error("negative tolerance accepted")
	}
	if _, err := NewVerifier(vectorSecret, WithTolerance(999*time.Millisecond)); err == nil {
		t.Error("sub-second tolerance accepted")
	}
	if _, err := NewVerifier(vectorSecret, WithClock(nil)); err == nil {
		t.Error("nil clock accepted")
	}
	if _, err := NewVerifier("whsec_"); !errors.Is(err, ErrInvalidSecret) {
		t.Errorf("empty secret: %v", err)
	}
}

func TestSignVerifyRoundTripEmptyAndBinaryBodies(t *testing.T) {
	secret := NewSecret()
	now := time.Now()
	for _, body := range [][]byte{nil, {}, {0, 1, 2, 0xff, '.', '.'}, []byte(strings.Repeat("x", 1<<16))} {
		h := http.Header{}
		s, err := NewSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetHeaders(h, "evt_x", now, body); err != nil {
			t.Fatal(err)
		}
		if err := Verify(secret, h, body); err != nil {
			t.Errorf("body of %d bytes: %v", len(body), err)
		}
	}
}
