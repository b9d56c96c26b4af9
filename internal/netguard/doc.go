// Package netguard keeps outbound webhook delivery from reaching internal
// networks (SSRF). A Policy decides which addresses may be contacted; it is
// applied when a webhook URL is registered (CheckURL) and again on every
// connection (DialContext, Control), so a DNS answer that changes between the
// check and the delivery cannot redirect a request inward.
package netguard
