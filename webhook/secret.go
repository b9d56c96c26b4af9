package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

const (
	// SecretPrefix marks a symmetric Standard Webhooks secret.
	SecretPrefix = "whsec_"
	// MinSecretBytes and MaxSecretBytes bound the decoded key length
	// (the specification: at least 192 bits, at most 512 bits).
	MinSecretBytes = 24
	MaxSecretBytes = 64
	// newSecretBytes is the key length NewSecret generates: one SHA-256 block
	// of entropy is more than HMAC-SHA256 can use.
	newSecretBytes = 32
)

// ErrInvalidSecret is returned (wrapped) when a secret cannot be decoded or
// has the wrong length.
var ErrInvalidSecret = errors.New("webhook: invalid secret")

// NewSecret returns a fresh secret: "whsec_" + base64 of 32 random bytes.
func NewSecret() string {
	key := make([]byte, newSecretBytes)
	// crypto/rand.Read never returns an error since Go 1.24; it aborts the
	// process instead of handing out a weak key.
	_, _ = rand.Read(key)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret decodes a secret into its HMAC key. The "whsec_" prefix is
// optional (the reference libraries accept both) and base64 padding may be
// omitted. The key must be MinSecretBytes..MaxSecretBytes long. Errors never
// echo the secret.
func ParseSecret(secret string) ([]byte, error) {
	encoded := strings.TrimPrefix(secret, SecretPrefix)
	if encoded == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	var (
		key []byte
		err error
	)
	if strings.HasSuffix(encoded, "=") {
		key, err = base64.StdEncoding.Strict().DecodeString(encoded)
	} else {
		key, err = base64.RawStdEncoding.Strict().DecodeString(encoded)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not base64 after the %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d to %d", ErrInvalidSecret, len(key), MinSecretBytes, MaxSecretBytes)
	}
	return key, nil
}
