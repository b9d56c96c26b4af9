package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names defined by the specification. net/http canonicalises them on
// the wire ("Webhook-Id"); header names are case-insensitive.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// signatureVersion identifies symmetric HMAC-SHA256 signatures.
const signatureVersion = "v1"

// ErrInvalidID is returned (wrapped) by the signer for a message id that is
// empty, contains '.', or contains a character not allowed in a header value.
var ErrInvalidID = errors.New("webhook: invalid message id")

// Signer produces webhook-signature values with one or more secrets. It is
// safe for concurrent use.
type Signer struct {
	keys [][]byte
}

// NewSigner parses the secrets (current first, then any still valid during a
// rotation). At least one is required; errors name the secret by position.
func NewSigner(secrets ...string) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: no secrets given", ErrInvalidSecret)
	}
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d of %d: %w", i+1, len(secrets), err)
		}
		keys = append(keys, key)
	}
	return &Signer{keys: keys}, nil
}

// Sign returns the webhook-signature header value for one delivery: one
// "v1,<base64>" entry per secret, separated by single spaces.
func (s *Signer) Sign(id string, ts time.Time, body []byte) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	unix := ts.Unix()
	if unix < 0 {
		// Receivers accept only unsigned unix seconds.
		return "", fmt.Errorf("webhook: timestamp %s is before 1970", ts.UTC().Format(time.RFC3339))
	}
	var b strings.Builder
	b.Grow(len(s.keys) * (len(signatureVersion) + 1 + base64.StdEncoding.EncodedLen(sha256.Size) + 1))
	var sum [sha256.Size]byte
	var encoded [44]byte // base64 of 32 bytes
	for i, key := range s.keys {
		mac := computeMAC(hmac.New(sha256.New, key), id, unix, body, sum[:0])
		base64.StdEncoding.Encode(encoded[:], mac)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(signatureVersion)
		b.WriteByte(',')
		b.Write(encoded[:])
	}
	return b.String(), nil
}

// SetHeaders signs the delivery and sets all three webhook headers on h.
func (s *Signer) SetHeaders(h http.Header, id string, ts time.Time, body []byte) error {
	sig, err := s.Sign(id, ts, body)
	if err != nil {
		return err
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Sign is NewSigner(secrets...).Sign(id, ts, body) for one-off use; a sender
// signing many deliveries should keep a Signer.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	s, err := NewSigner(secrets...)
	if err != nil {
		return "", err
	}
	return s.Sign(id, ts, body)
}

// computeMAC appends HMAC(key, id "." unix "." body) to dst.
func computeMAC(h hash.Hash, id string, unix int64, body []byte, dst []byte) []byte {
	var num [20]byte
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(num[:0], unix, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(dst)
}

// checkID enforces the specification's advice that ids must not contain '.'
// (which would make "id.timestamp.body" ambiguous) and keeps ids valid as
// header values.
func checkID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c == '.':
			return fmt.Errorf("%w: contains '.' at byte %d", ErrInvalidID, i)
		case c <= ' ' || c >= 0x7f:
			return fmt.Errorf("%w: byte %d is not a visible ASCII character", ErrInvalidID, i)
		}
	}
	return nil
}
