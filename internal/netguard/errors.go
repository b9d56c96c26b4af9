package netguard

import (
	"fmt"
	"net/netip"
)

// BlockedError reports a destination the policy refuses. Host is the name
// that was asked for (empty when only an address was known); IP is the
// offending address, invalid when the name itself is refused.
type BlockedError struct {
	Host   string
	IP     netip.Addr
	Reason string
}

func (e *BlockedError) Error() string {
	switch {
	case !e.IP.IsValid():
		return fmt.Sprintf("netguard: refusing host %q: %s", e.Host, e.Reason)
	case e.Host == "" || e.Host == e.IP.String():
		return fmt.Sprintf("netguard: refusing %s: %s", e.IP, e.Reason)
	default:
		return fmt.Sprintf("netguard: refusing %s (host %q): %s", e.IP, e.Host, e.Reason)
	}
}

// InvalidURLError reports a webhook URL that is malformed or not allowed by
// its shape (scheme, user info, port, odd IP literal). The URL itself is not
// repeated because it may carry credentials in its query.
type InvalidURLError struct {
	Reason string
}

func (e *InvalidURLError) Error() string { return "netguard: invalid webhook URL: " + e.Reason }

// ResolveError reports a host whose addresses could not be looked up.
type ResolveError struct {
	Host string
	Err  error
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("netguard: resolving %q: %v", e.Host, e.Err)
}

func (e *ResolveError) Unwrap() error { return e.Err }
