package netguard

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// fuzzResolver answers every name without I/O: names containing "private"
// resolve to 10.0.0.1, names containing "nx" fail, all others are public.
type fuzzResolver struct{}

func (fuzzResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	switch {
	case strings.Contains(host, "nx"):
		return nil, errNXDomain
	case strings.Contains(host, "private"):
		return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil
	default:
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{
		"https://hooks.example.com/shiftflow",
		"http://127.0.0.1:8080/",
		"http://2130706433/",
		"http://0x7f.1/",
		"http://0177.0.0.1/",
		"http://[::ffff:127.0.0.1]/",
		"http://[fe80::1%25eth0]:80/",
		"http://[64:ff9b::a00:1]/",
		"https://user:pass@hooks.example.com/",
		"https://private.example.com/",
		"https://nx.example.com/",
		"https://localhost./",
		"https://hooks.example.com:0/",
		"ftp://x/",
		"http:opaque",
		"//host/path",
		"http://1.2.3.4.5/",
		"http://example.0x1g/",
		"",
	} {
		f.Add(seed)
	}
	p := New(WithResolver(fuzzResolver{}))
	f.Fuzz(func(t *testing.T, raw string) {
		err := p.CheckURL(context.Background(), raw)
		if err != nil {
			var (
				inv *InvalidURLError
				blk *BlockedError
				res *ResolveError
			)
			if !errors.As(err, &inv) && !errors.As(err, &blk) && !errors.As(err, &res) {
				t.Fatalf("CheckURL(%q) returned an untyped error %v", raw, err)
			}
			if blk != nil && blk.Reason == "" {
				t.Fatalf("BlockedError without reason for %q", raw)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("accepted %q that url.Parse rejects: %v", raw, perr)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.User != nil || u.Hostname() == "" || u.Opaque != "" {
			t.Fatalf("accepted %q with scheme %q user %v host %q", raw, u.Scheme, u.User, u.Hostname())
		}
		host := u.Hostname()
		if addr, aerr := netip.ParseAddr(host); aerr == nil {
			if err := p.CheckIP(addr); err != nil {
				t.Fatalf("accepted %q whose literal address is refused: %v", raw, err)
			}
		} else {
			if endsInNumber(strings.ToLower(strings.TrimSuffix(host, "."))) {
				t.Fatalf("accepted %q whose host is a non-standard IPv4 form", raw)
			}
			if strings.Contains(strings.ToLower(host), "private") {
				t.Fatalf("accepted %q that resolves to a private address", raw)
			}
		}
		if _, err := p.checkShape(u); err != nil {
			t.Fatalf("accepted %q that the delivery transport refuses: %v", raw, err)
		}
	})
}

func FuzzParseCIDRs(f *testing.F) {
	for _, seed := range []string{
		"127.0.0.1/32",
		"10.0.0.0/8, 192.168.0.0/16",
		"::1, fd00::/8",
		"::ffff:10.0.0.0/104",
		"10.1.2.3/8",
		"fe80::1%eth0",
		",,, ,",
		"1.2.3.4/33",
		"0.0.0.0/0,::/0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prefixes, err := ParseCIDRs(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "entry ") {
				t.Fatalf("error %q does not name the entry", err)
			}
			return
		}
		texts := make([]string, len(prefixes))
		for i, pr := range prefixes {
			if !pr.IsValid() || pr.Masked() != pr {
				t.Fatalf("ParseCIDRs(%q) returned non-canonical prefix %s", s, pr)
			}
			if pr.Addr().Is4In6() && pr.Bits() >= 96 {
				t.Fatalf("ParseCIDRs(%q) kept mapped prefix %s", s, pr)
			}
			texts[i] = pr.String()
		}
		again, err := ParseCIDRs(strings.Join(texts, ","))
		if err != nil {
			t.Fatalf("re-parsing %v: %v", texts, err)
		}
		if len(again) != len(prefixes) {
			t.Fatalf("re-parse changed length: %v vs %v", again, prefixes)
		}
		for i := range again {
			if again[i] != prefixes[i] {
				t.Fatalf("re-parse changed %s to %s", prefixes[i], again[i])
			}
		}
	})
}

// FuzzCheckIP checks that every spelling of an IPv4 address gets the same
// verdict and that an allow-all list allows everything valid.
func FuzzCheckIP(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1})
	f.Add([]byte{8, 8, 8, 8})
	f.Add([]byte{169, 254, 169, 254})
	f.Add(netip.MustParseAddr("fe80::1").AsSlice())
	f.Add(netip.MustParseAddr("2606:4700:4700::1111").AsSlice())
	def := New()
	all := New(WithAllowedPrefixes(netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")))
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		if err := all.CheckIP(addr); err != nil {
			t.Fatalf("allow-all refused %s: %v", addr, err)
		}
		verdict := def.CheckIP(addr) == nil
		if addr.Is4() {
			mapped := netip.AddrFrom16(addr.As16())
			if (def.CheckIP(mapped) == nil) != verdict {
				t.Fatalf("%s and %s disagree", addr, mapped)
			}
			v4 := addr.As4()
			nat64 := netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b, 10: 0, 11: 0, 12: v4[0], 13: v4[1], 14: v4[2], 15: v4[3]})
			if (def.CheckIP(nat64) == nil) != verdict {
				t.Fatalf("%s and %s disagree", addr, nat64)
			}
			if !verdict && (def.CheckIP(netip.AddrFrom16([16]byte{0x20, 0x02, v4[0], v4[1], v4[2], v4[3], 15: 1})) == nil) {
				t.Fatalf("6to4 embedding of refused %s allowed", addr)
			}
		}
	})
}
