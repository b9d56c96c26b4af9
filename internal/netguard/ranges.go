package netguard

import "net/netip"

// rangeRule refuses every address in prefix for reason.
type rangeRule struct {
	prefix netip.Prefix
	reason string
}

func rule(cidr, reason string) rangeRule {
	return rangeRule{prefix: netip.MustParsePrefix(cidr), reason: reason}
}

// v4Rules follows the IANA IPv4 special-purpose registry, keeping the ranges
// that are not globally reachable or never host a real receiver. The first
// match wins, so narrower entries come first.
var v4Rules = []rangeRule{
	rule("0.0.0.0/32", "unspecified address"),
	rule("0.0.0.0/8", `"this network" (0.0.0.0/8)`),
	rule("10.0.0.0/8", "private network (RFC 1918)"),
	rule("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
	rule("127.0.0.0/8", "loopback"),
	rule("169.254.169.254/32", "link-local cloud metadata service"),
	rule("169.254.0.0/16", "link-local"),
	rule("172.16.0.0/12", "private network (RFC 1918)"),
	rule("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"),
	rule("192.0.2.0/24", "documentation (TEST-NET-1)"),
	rule("192.88.99.0/24", "deprecated 6to4 relay anycast"),
	rule("192.168.0.0/16", "private network (RFC 1918)"),
	rule("198.18.0.0/15", "benchmarking (RFC 2544)"),
	rule("198.51.100.0/24", "documentation (TEST-NET-2)"),
	rule("203.0.113.0/24", "documentation (TEST-NET-3)"),
	rule("224.0.0.0/4", "multicast"),
	rule("255.255.255.255/32", "broadcast"),
	rule("240.0.0.0/4", "reserved (240.0.0.0/4)"),
}

// v6Rules covers the IPv6 special-purpose registry; anything outside global
// unicast 2000::/3 is refused afterwards. IPv4-mapped addresses and the
// prefixes that embed an IPv4 address (NAT64, 6to4) are handled in classify
// before these rules.
var v6Rules = []rangeRule{
	rule("::/128", "unspecified address"),
	rule("::1/128", "loopback"),
	rule("::/96", "deprecated IPv4-compatible IPv6"),
	rule("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
	rule("100::/64", "discard-only (RFC 6666)"),
	rule("2001::/32", "Teredo tunnel"),
	rule("2001:2::/48", "benchmarking (RFC 5180)"),
	rule("2001:10::/28", "ORCHID (non-routable)"),
	rule("2001:20::/28", "ORCHIDv2 (non-routable)"),
	rule("2001:db8::/32", "documentation (2001:db8::/32)"),
	rule("3fff::/20", "documentation (3fff::/20)"),
	rule("5f00::/16", "segment routing SIDs (RFC 9602)"),
	rule("fc00::/7", "unique local (fc00::/7)"),
	rule("fe80::/10", "link-local"),
	rule("fec0::/10", "deprecated site-local"),
	rule("ff00::/8", "multicast"),
}

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// classify returns why addr must not be contacted, or "" when it may.
// It ignores the allow-list.
func classify(addr netip.Addr) string {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		if r := classify4(addr.Unmap()); r != "" {
			return r + ", IPv4-mapped"
		}
		return ""
	}
	if addr.Is4() {
		return classify4(addr)
	}
	if !addr.IsValid() {
		return "invalid address"
	}
	b := addr.As16()
	switch {
	case nat64WellKnown.Contains(addr):
		// A NAT64 gateway forwards to the embedded IPv4 address.
		if r := classify4(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return r + ", via NAT64 64:ff9b::/96"
		}
		return ""
	case sixToFour.Contains(addr):
		// 6to4 tunnels to the IPv4 address in bits 16-47.
		if r := classify4(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
			return r + ", via 6to4 2002::/16"
		}
	}
	for _, r := range v6Rules {
		if r.prefix.Contains(addr) {
			return r.reason
		}
	}
	if !globalUnicast6.Contains(addr) {
		return "not global unicast (outside 2000::/3)"
	}
	return ""
}

func classify4(addr netip.Addr) string {
	for _, r := range v4Rules {
		if r.prefix.Contains(addr) {
			return r.reason
		}
	}
	return ""
}
