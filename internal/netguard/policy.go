package netguard

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Environment variables read by FromEnv.
const (
	EnvAllowCIDRs = "WEBHOOK_ALLOW_CIDRS"
	EnvHTTPSOnly  = "WEBHOOK_HTTPS_ONLY"
)

// Resolver looks up a host's addresses; *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy decides which destinations webhook deliveries may reach. The zero
// value refuses every special-purpose address and allows nothing extra; build
// one with New. A Policy is immutable and safe for concurrent use.
type Policy struct {
	allow     []netip.Prefix
	httpsOnly bool
	resolver  Resolver
}

// Option configures a Policy.
type Option func(*Policy)

// WithAllowedPrefixes opens the given ranges even where the built-in rules
// refuse them (tests allow 127.0.0.1/32; an on-premises install may allow its
// own network).
func WithAllowedPrefixes(prefixes ...netip.Prefix) Option {
	return func(p *Policy) {
		for _, pr := range prefixes {
			p.allow = append(p.allow, normalizePrefix(pr))
		}
	}
}

// WithHTTPSOnly refuses http:// URLs.
func WithHTTPSOnly(on bool) Option {
	return func(p *Policy) { p.httpsOnly = on }
}

// WithResolver replaces net.DefaultResolver for CheckURL and DialContext.
func WithResolver(r Resolver) Option {
	return func(p *Policy) { p.resolver = r }
}

// New builds a Policy: by default every special-purpose address is refused,
// both http and https are allowed, and DNS goes through net.DefaultResolver.
func New(opts ...Option) *Policy {
	p := &Policy{}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

// FromEnv reads WEBHOOK_ALLOW_CIDRS (comma-separated CIDRs or addresses) and
// WEBHOOK_HTTPS_ONLY (a strconv.ParseBool value) through getenv, usually
// os.Getenv. Errors name the variable and the bad entry.
func FromEnv(getenv func(string) string) ([]Option, error) {
	var opts []Option
	prefixes, err := ParseCIDRs(getenv(EnvAllowCIDRs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvAllowCIDRs, err)
	}
	if len(prefixes) > 0 {
		opts = append(opts, WithAllowedPrefixes(prefixes...))
	}
	if raw := strings.TrimSpace(getenv(EnvHTTPSOnly)); raw != "" {
		on, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a boolean (use true or false)", EnvHTTPSOnly, raw)
		}
		opts = append(opts, WithHTTPSOnly(on))
	}
	return opts, nil
}

// HTTPSOnly reports whether http:// URLs are refused.
func (p *Policy) HTTPSOnly() bool { return p.httpsOnly }

// AllowedPrefixes returns a copy of the allow-list.
func (p *Policy) AllowedPrefixes() []netip.Prefix {
	return append([]netip.Prefix(nil), p.allow...)
}

// CheckIP returns a *BlockedError when addr may not be contacted: it is in a
// refused range and not in the allow-list. IPv4-mapped IPv6 addresses are
// judged by their IPv4 address.
func (p *Policy) CheckIP(addr netip.Addr) error {
	if b := p.blocked(addr); b != nil {
		return b
	}
	return nil
}

// blocked is CheckIP with a concrete result, so callers can add the host.
func (p *Policy) blocked(addr netip.Addr) *BlockedError {
	addr = addr.WithZone("")
	if p.allowed(addr) {
		return nil
	}
	if reason := classify(addr); reason != "" {
		return &BlockedError{IP: addr, Reason: reason}
	}
	return nil
}

func (p *Policy) allowed(addr netip.Addr) bool {
	unmapped := addr.Unmap()
	for _, pr := range p.allow {
		if pr.Contains(unmapped) || pr.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseCIDRs parses a comma-separated list of CIDR prefixes ("10.0.0.0/8")
// or single addresses ("127.0.0.1", meaning /32 or /128). Blank entries are
// skipped. Host bits must be zero, so a typo such as "10.1.2.3/8" is caught
// instead of silently opening 10.0.0.0/8. IPv4-mapped prefixes are stored as
// their IPv4 form. Errors name the entry by position and text.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		pr, err := parseCIDR(entry)
		if err != nil {
			return nil, fmt.Errorf("entry %d %q: %w", i+1, entry, err)
		}
		out = append(out, pr)
	}
	return out, nil
}

func parseCIDR(entry string) (netip.Prefix, error) {
	if !strings.Contains(entry, "/") {
		addr, err := netip.ParseAddr(entry)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR prefix")
		}
		if addr.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zones are not allowed")
		}
		return normalizePrefix(netip.PrefixFrom(addr, addr.BitLen())), nil
	}
	pr, err := netip.ParsePrefix(entry)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not a CIDR prefix")
	}
	if masked := pr.Masked(); masked != pr {
		return netip.Prefix{}, fmt.Errorf("host bits are set; did you mean %s?", masked)
	}
	return normalizePrefix(pr), nil
}

// normalizePrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96) so it
// matches addresses however they are written.
func normalizePrefix(pr netip.Prefix) netip.Prefix {
	pr = pr.Masked()
	if pr.Addr().Is4In6() && pr.Bits() >= 96 {
		return netip.PrefixFrom(pr.Addr().Unmap(), pr.Bits()-96)
	}
	return pr
}
