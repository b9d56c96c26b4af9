package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength bounds a webhook URL; longer ones are refused at creation.
const MaxURLLength = 2048

var errNoAddresses = errors.New("no addresses found")

// CheckURL vets a webhook URL before it is stored: absolute http(s) (https
// only when the policy says so), no user info, a host and a valid port; the
// host's addresses, literal or resolved, must all be allowed. It returns an
// *InvalidURLError, *BlockedError or *ResolveError, or ctx's error.
func (p *Policy) CheckURL(ctx context.Context, rawURL string) error {
	if len(rawURL) > MaxURLLength {
		return &InvalidURLError{Reason: fmt.Sprintf("longer than %d bytes", MaxURLLength)}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &InvalidURLError{Reason: "cannot parse: " + err.Error()}
	}
	host, err := p.checkShape(u)
	if err != nil {
		return err
	}
	_, err = p.lookup(ctx, host)
	return err
}

// checkShape applies every rule that needs no DNS and returns the host.
func (p *Policy) checkShape(u *url.URL) (string, error) {
	switch u.Scheme {
	case "https":
	case "http":
		if p.httpsOnly {
			return "", &InvalidURLError{Reason: "scheme must be https (" + EnvHTTPSOnly + " is set)"}
		}
	case "":
		return "", &InvalidURLError{Reason: "not an absolute URL (want https://host/path)"}
	default:
		return "", &InvalidURLError{Reason: fmt.Sprintf("scheme %q is not http or https", u.Scheme)}
	}
	if u.Opaque != "" {
		return "", &InvalidURLError{Reason: "not an absolute URL (want " + u.Scheme + "://host/path)"}
	}
	if u.User != nil {
		return "", &InvalidURLError{Reason: "user info (user:password@) is not allowed"}
	}
	host := u.Hostname()
	if host == "" {
		return "", &InvalidURLError{Reason: "host is required"}
	}
	if port := u.Port(); port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return "", &InvalidURLError{Reason: fmt.Sprintf("port %q is not in 1-65535", port)}
		}
	}
	return host, nil
}

// lookup returns host's addresses after checking every one of them; a single
// refused address refuses the host, since the dialer might pick it.
func (p *Policy) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := p.addrsOf(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if b := p.blocked(a); b != nil {
			b.Host = host
			return nil, b
		}
	}
	return addrs, nil
}

func (p *Policy) addrsOf(ctx context.Context, host string) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{addr}, nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if endsInNumber(name) {
		// Resolvers disagree on forms like "2130706433" or "0x7f.1" (getaddrinfo
		// reads them as 127.0.0.1), so they are judged here, never looked up.
		addr, ok := parseLooseIPv4(name)
		if !ok {
			return nil, &InvalidURLError{Reason: fmt.Sprintf("host %q is not a valid IPv4 address", host)}
		}
		if b := p.blocked(addr); b != nil {
			b.Host = host
			return nil, b
		}
		return nil, &InvalidURLError{Reason: fmt.Sprintf("host %q is an IPv4 address in a non-standard form; write it as %s", host, addr)}
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		if !p.allowed(netip.IPv6Loopback()) && !p.allowed(netip.AddrFrom4([4]byte{127, 0, 0, 1})) {
			return nil, &BlockedError{Host: host, Reason: "localhost name (RFC 6761)"}
		}
	}
	// DNS names are case-insensitive; the trailing dot is kept (it marks the
	// name as rooted, so no search domain is appended).
	resolver := p.resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", strings.ToLower(host))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &ResolveError{Host: host, Err: err}
	}
	if len(addrs) == 0 {
		return nil, &ResolveError{Host: host, Err: errNoAddresses}
	}
	return addrs, nil
}

// endsInNumber reports whether the last label of host is numeric (decimal,
// or hex with 0x), which the WHATWG URL standard treats as an IPv4 address.
func endsInNumber(host string) bool {
	last := host
	if i := strings.LastIndexByte(host, '.'); i >= 0 {
		last = host[i+1:]
	}
	if last == "" {
		return false
	}
	if allDigits(last, 10) {
		return true
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		return allDigits(last[2:], 16)
	}
	return false
}

// parseLooseIPv4 reads the inet_aton forms: one to four parts, each decimal,
// octal (leading 0) or hex (0x); the last part fills the remaining bytes.
func parseLooseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var nums [4]uint64
	for i, part := range parts {
		n, ok := parseLoosePart(part)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := len(parts) - 1
	var v uint64
	for i := 0; i < last; i++ {
		if nums[i] > 255 {
			return netip.Addr{}, false
		}
		v |= nums[i] << (8 * (3 - i))
	}
	if nums[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	v |= nums[last]
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseLoosePart(part string) (uint64, bool) {
	base := 10
	switch {
	case len(part) >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X'):
		base, part = 16, part[2:]
		if part == "" {
			return 0, true
		}
	case len(part) >= 2 && part[0] == '0':
		base, part = 8, part[1:]
	case part == "":
		return 0, false
	}
	if !allDigits(part, base) {
		return 0, false
	}
	n, err := strconv.ParseUint(part, base, 32)
	if err != nil {
		return 0, false
	}
	return n, true
}

func allDigits(s string, base int) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			return false
		}
		if d >= base {
			return false
		}
	}
	return true
}
