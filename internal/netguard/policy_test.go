package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckIPDefaultPolicy(t *testing.T) {
	p := New()
	tests := []struct {
		addr   string
		reason string // substring of the refusal; "" means allowed
	}{
		// IPv4, public.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"100.63.255.255", ""},  // just below CGNAT
		{"100.128.0.0", ""},     // just above CGNAT
		{"172.15.255.255", ""},  // just below 172.16/12
		{"172.32.0.0", ""},      // just above 172.16/12
		{"192.0.1.255", ""},     // between 192.0.0/24 and TEST-NET-1
		{"223.255.255.255", ""}, // last unicast below multicast
		// IPv4, refused.
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "this network"},
		{"10.0.0.1", "RFC 1918"},
		{"10.255.255.255", "RFC 1918"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"169.254.169.254", "metadata"},
		{"169.254.1.1", "link-local"},
		{"172.16.0.1", "RFC 1918"},
		{"172.31.255.255", "RFC 1918"},
		{"192.0.0.8", "IETF protocol"},
		{"192.0.2.10", "TEST-NET-1"},
		{"192.88.99.1", "6to4 relay"},
		{"192.168.1.1", "RFC 1918"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"198.51.100.7", "TEST-NET-2"},
		{"203.0.113.9", "TEST-NET-3"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "broadcast"},
		// IPv4-mapped IPv6 is judged by the IPv4 address.
		{"::ffff:127.0.0.1", "loopback, IPv4-mapped"},
		{"::ffff:7f00:1", "loopback, IPv4-mapped"},
		{"::ffff:10.1.2.3", "RFC 1918), IPv4-mapped"},
		{"::ffff:169.254.169.254", "metadata"},
		{"::ffff:100.64.0.1", "carrier-grade NAT"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"::ffff:8.8.8.8", ""},
		// IPv6, public.
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		{"2a00:1450:4001:80b::200e", ""},
		// IPv6, refused.
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"::8.8.8.8", "IPv4-compatible"},
		{"100::1", "discard-only"},
		{"2001::1", "Teredo"},
		{"2001:2::1", "benchmarking"},
		{"2001:10::1", "ORCHID"},
		{"2001:20::1", "ORCHIDv2"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"5f00::1", "segment routing"},
		{"fc00::1", "unique local"},
		{"fd12:3456:789a::1", "unique local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"febf::1", "link-local"},
		{"fec0::1", "site-local"},
		{"ff02::1", "multicast"},
		{"ff0e::1", "multicast"},
		{"4000::1", "not global unicast"},
		{"e000::1", "not global unicast"},
		// NAT64 and 6to4 are judged by the embedded IPv4 address.
		{"64:ff9b::808:808", ""},
		{"64:ff9b::7f00:1", "loopback, via NAT64"},
		{"64:ff9b::a9fe:a9fe", "metadata service, via NAT64"},
		{"64:ff9b::c0a8:101", "RFC 1918), via NAT64"},
		{"64:ff9b:1::a00:1", "local-use NAT64"},
		{"64:ff9b:1::808:808", "local-use NAT64"},
		{"2002:808:808::1", ""},
		{"2002:7f00:1::1", "loopback, via 6to4"},
		{"2002:a00:1::1", "RFC 1918), via 6to4"},
		{"2002:a9fe:a9fe::1", "metadata service, via 6to4"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			addr := netip.MustParseAddr(tt.addr)
			err := p.CheckIP(addr)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckIP(%s) = %v, want allowed", tt.addr, err)
				}
				return
			}
			var b *BlockedError
			if !errors.As(err, &b) {
				t.Fatalf("CheckIP(%s) = %v, want *BlockedError", tt.addr, err)
			}
			if !strings.Contains(b.Reason, tt.reason) {
				t.Fatalf("CheckIP(%s) reason %q, want it to mention %q", tt.addr, b.Reason, tt.reason)
			}
			if b.IP != addr.WithZone("") {
				t.Fatalf("BlockedError.IP = %s, want %s", b.IP, addr)
			}
		})
	}
}

func TestCheckIPInvalidAddressRefused(t *testing.T) {
	if err := New().CheckIP(netip.Addr{}); err == nil {
		t.Fatal("the zero Addr was allowed")
	}
}

func TestCheckIPAllowList(t *testing.T) {
	allow, err := ParseCIDRs("127.0.0.1/32, 10.20.0.0/16, fd00:1::/64, ::ffff:192.168.7.0/120")
	if err != nil {
		t.Fatal(err)
	}
	p := New(WithAllowedPrefixes(allow...))
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true}, // mapped form of an allowed address
		{"127.0.0.2", false},
		{"::1", false},
		{"10.20.3.4", true},
		{"10.21.0.1", false},
		{"fd00:1::5", true},
		{"fd00:2::5", false},
		{"192.168.7.44", true}, // allowed through the mapped prefix
		{"::ffff:192.168.7.44", true},
		{"192.168.8.1", false},
		{"169.254.169.254", false},
		{"8.8.8.8", true}, // public stays allowed
	}
	for _, tt := range tests {
		err := p.CheckIP(netip.MustParseAddr(tt.addr))
		if (err == nil) != tt.allowed {
			t.Errorf("CheckIP(%s) = %v, want allowed=%v", tt.addr, err, tt.allowed)
		}
	}
}

func TestParseCIDRs(t *testing.T) {
	got, err := ParseCIDRs(" 127.0.0.1/32,10.0.0.0/8 ,, 192.168.1.5, ::1, fd00::/8, ::ffff:10.9.0.0/112,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "10.0.0.0/8", "192.168.1.5/32", "::1/128", "fd00::/8", "10.9.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	if got, err := ParseCIDRs(""); err != nil || len(got) != 0 {
		t.Errorf("empty list = %v, %v", got, err)
	}

	bad := []struct {
		in, mention string
	}{
		{"10.0.0.0/8,10.0.0.0/33", `entry 2 "10.0.0.0/33"`},
		{"10.1.2.3/8", "did you mean 10.0.0.0/8"},
		{"localhost", `entry 1 "localhost"`},
		{"127.0.0.1/32, 300.1.1.1", `entry 2 "300.1.1.1"`},
		{"fe80::1%eth0", "zones"},
		{"10.0.0.0/", `entry 1`},
		{"1.2.3.4/32/1", `entry 1`},
	}
	for _, tt := range bad {
		_, err := ParseCIDRs(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseCIDRs(%q) = %v, want an error mentioning %s", tt.in, err, tt.mention)
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{EnvAllowCIDRs: "127.0.0.1/32", EnvHTTPSOnly: "true"}
	opts, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	p := New(opts...)
	if !p.HTTPSOnly() {
		t.Error("HTTPS-only not set")
	}
	if err := p.CheckIP(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Errorf("allowed address refused: %v", err)
	}

	opts, err = FromEnv(func(string) string { return "" })
	if err != nil || len(opts) != 0 {
		t.Errorf("empty environment = %d options, %v", len(opts), err)
	}

	for _, tt := range []struct {
		env     map[string]string
		mention string
	}{
		{map[string]string{EnvAllowCIDRs: "10.0.0.0/8,nope"}, EnvAllowCIDRs + `: entry 2 "nope"`},
		{map[string]string{EnvHTTPSOnly: "sometimes"}, EnvHTTPSOnly},
	} {
		_, err := FromEnv(func(k string) string { return tt.env[k] })
		if err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("FromEnv(%v) = %v, want an error mentioning %q", tt.env, err, tt.mention)
		}
	}
}

func TestBlockedErrorMessage(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.1")
	for _, tt := range []struct {
		err  *BlockedError
		want string
	}{
		{&BlockedError{Host: "internal.example", IP: ip, Reason: "private"}, `netguard: refusing 10.0.0.1 (host "internal.example"): private`},
		{&BlockedError{IP: ip, Reason: "private"}, "netguard: refusing 10.0.0.1: private"},
		{&BlockedError{Host: "localhost", Reason: "localhost name"}, `netguard: refusing host "localhost": localhost name`},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestZeroPolicyIsUsable(t *testing.T) {
	var p Policy
	if err := p.CheckIP(netip.MustParseAddr("127.0.0.1")); err == nil {
		t.Fatal("zero Policy allowed loopback")
	}
	if err := p.CheckURL(t.Context(), "http://[::1]/"); err == nil {
		t.Fatal("zero Policy allowed [::1]")
	}
}
