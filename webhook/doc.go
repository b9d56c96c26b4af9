// Package webhook signs and verifies webhook deliveries following the
// Standard Webhooks specification (https://www.standardwebhooks.com).
//
// shiftflow sends every delivery as an HTTP POST with three headers:
//
//	webhook-id:        the event id, stable across retries (use it to deduplicate)
//	webhook-timestamp: the attempt time in unix seconds
//	webhook-signature: space-separated "v1,<base64 HMAC-SHA256>" entries
//
// The signed content is id + "." + timestamp + "." + body, keyed with the
// bytes of the endpoint secret ("whsec_" + base64). While a secret is being
// rotated the header carries one signature per valid secret, so a receiver
// holding either the old or the new secret verifies the delivery.
//
// Receivers use [NewVerifier] once and call [Verifier.Verify] per request with
// the raw, unparsed body; senders use [NewSigner] or [Sign]. The package uses
// only the standard library.
package webhook
