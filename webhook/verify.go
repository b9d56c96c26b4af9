package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, in either direction, before it is rejected as a replay.
const DefaultTolerance = 5 * time.Minute

// Errors returned (possibly wrapped with detail) by Verify; test with errors.Is.
var (
	ErrMissingHeaders   = errors.New("webhook: missing required headers")
	ErrMalformedHeaders = errors.New("webhook: malformed headers")
	ErrInvalidSignature = errors.New("webhook: no matching signature")
	ErrTimestampTooOld  = errors.New("webhook: timestamp too old")
	ErrTimestampTooNew  = errors.New("webhook: timestamp too new")
)

// Verifier checks deliveries signed with one secret. It is safe for
// concurrent use.
type Verifier struct {
	key       []byte
	tolerance time.Duration
	now       func() time.Time
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithTolerance sets the accepted clock difference (default DefaultTolerance).
// Timestamps have whole-second resolution, so it must be at least a second.
func WithTolerance(d time.Duration) Option {
	return func(v *Verifier) { v.tolerance = d }
}

// WithClock replaces time.Now, for tests and for replaying stored requests.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) { v.now = now }
}

// NewVerifier parses the endpoint secret ("whsec_..." as shown when the
// webhook was created or its secret rotated).
func NewVerifier(secret string, opts ...Option) (*Verifier, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return nil, err
	}
	v := &Verifier{key: key, tolerance: DefaultTolerance, now: time.Now}
	for _, opt := range opts {
		opt(v)
	}
	if v.tolerance < time.Second {
		return nil, fmt.Errorf("webhook: tolerance must be at least 1s, got %s", v.tolerance)
	}
	if v.now == nil {
		return nil, errors.New("webhook: clock must not be nil")
	}
	return v, nil
}

// Verify is NewVerifier(secret).Verify(headers, body) with default options.
func Verify(secret string, headers http.Header, body []byte) error {
	v, err := NewVerifier(secret)
	if err != nil {
		return err
	}
	return v.Verify(headers, body)
}

// Verify checks that one of the v1 signatures in headers was made with this
// verifier's secret over the exact body bytes, then that the timestamp is
// within tolerance. Header names match case-insensitively. Signatures of
// other versions (such as v1a) are ignored. The returned error wraps one of
// the package's Err values.
func (v *Verifier) Verify(headers http.Header, body []byte) error {
	id, err := singleHeader(headers, HeaderID)
	if err != nil {
		return err
	}
	rawTS, err := singleHeader(headers, HeaderTimestamp)
	if err != nil {
		return err
	}
	sigs := headerValues(headers, HeaderSignature)
	if len(sigs) == 0 {
		return fmt.Errorf("%w: %s", ErrMissingHeaders, HeaderSignature)
	}
	if err := checkID(id); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformedHeaders, HeaderID, err)
	}
	unix, err := parseTimestamp(rawTS)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformedHeaders, HeaderTimestamp, err)
	}

	// The signature is checked before the timestamp so that an unauthenticated
	// request is never reported as a stale but genuine one.
	var sum [sha256.Size]byte
	expected := computeMAC(hmac.New(sha256.New, v.key), id, unix, body, sum[:0])
	if err := matchSignature(sigs, expected); err != nil {
		return err
	}

	now := v.now().Unix()
	tol := int64(v.tolerance / time.Second)
	switch {
	case now-unix > tol:
		return fmt.Errorf("%w: %ds behind the receiver clock, tolerance %s", ErrTimestampTooOld, now-unix, v.tolerance)
	case unix-now > tol:
		return fmt.Errorf("%w: %ds ahead of the receiver clock, tolerance %s", ErrTimestampTooNew, unix-now, v.tolerance)
	}
	return nil
}

// matchSignature compares every v1 entry of the signature header values with
// expected in constant time.
func matchSignature(values []string, expected []byte) error {
	v1 := 0
	var decoded [sha256.Size + 3]byte // room for a mis-sized entry to be detected
	for _, value := range values {
		for _, entry := range strings.Fields(value) {
			version, sig, ok := strings.Cut(entry, ",")
			if !ok || version != signatureVersion {
				continue
			}
			v1++
			if base64.StdEncoding.DecodedLen(len(sig)) > len(decoded) {
				continue
			}
			n, err := base64.StdEncoding.Strict().Decode(decoded[:], []byte(sig))
			if err != nil {
				continue
			}
			if hmac.Equal(decoded[:n], expected) {
				return nil
			}
		}
	}
	if v1 == 0 {
		return fmt.Errorf("%w: %s has no %s entry", ErrInvalidSignature, HeaderSignature, signatureVersion)
	}
	return ErrInvalidSignature
}

// headerValues collects the non-empty values of name under any letter case:
// http.Header.Get only finds canonical keys, but callers may build headers
// by hand ("webhook-id") or copy them from frameworks that lowercase keys.
func headerValues(h http.Header, name string) []string {
	var out []string
	for k, vals := range h {
		if !strings.EqualFold(k, name) {
			continue
		}
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// singleHeader returns the one value of name; a repeated header is rejected
// because a proxy and this verifier might read different copies.
func singleHeader(h http.Header, name string) (string, error) {
	vals := headerValues(h, name)
	switch len(vals) {
	case 0:
		return "", fmt.Errorf("%w: %s", ErrMissingHeaders, name)
	case 1:
		return vals[0], nil
	default:
		return "", fmt.Errorf("%w: %s appears %d times", ErrMalformedHeaders, name, len(vals))
	}
}

// parseTimestamp accepts only the canonical decimal form the signer writes
// (no sign, no leading zeros), so the signed text equals the header text.
func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > 19 {
		return 0, fmt.Errorf("want unix seconds, got %d characters", len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("want unix seconds, got %q", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("leading zero in %q", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want unix seconds, got %q", s)
	}
	return n, nil
}
