package netguard

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func testResolver() *fakeResolver {
	return &fakeResolver{table: map[string][]string{
		"hooks.example.com":    {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"internal.example.com": {"10.0.0.7"},
		"mixed.example.com":    {"93.184.216.34", "192.168.0.10"},
		"metadata.example.com": {"169.254.169.254"},
		"mapped.example.com":   {"::ffff:127.0.0.1"},
		"ula.example.com":      {"fd00::1"},
		"empty.example.com":    {},
		"localhost":            {"127.0.0.1"},
	}}
}

func TestCheckURL(t *testing.T) {
	type want int
	const (
		ok want = iota
		invalid
		blocked
		unresolved
	)
	tests := []struct {
		url     string
		httpsOn bool
		want    want
		mention string
	}{
		{"https://hooks.example.com/shiftflow", false, ok, ""},
		{"http://hooks.example.com:8080/x?token=abc", false, ok, ""},
		{"HTTPS://HOOKS.EXAMPLE.COM/", false, ok, ""},
		{"https://hooks.example.com./trailing-dot", false, ok, ""},
		{"https://8.8.8.8/", false, ok, ""},
		{"https://[2606:4700:4700::1111]:443/", false, ok, ""},
		{"http://hooks.example.com/", true, invalid, "https"},
		{"ftp://hooks.example.com/", false, invalid, `scheme "ftp"`},
		{"javascript:alert(1)", false, invalid, `scheme "javascript"`},
		{"hooks.example.com/path", false, invalid, "absolute"},
		{"//hooks.example.com/path", false, invalid, "absolute"},
		{"http:hooks.example.com", false, invalid, "absolute"},
		{"https://user:pass@hooks.example.com/", false, invalid, "user info"},
		{"https://@hooks.example.com/", false, invalid, "user info"},
		{"https:///path-only", false, invalid, "host is required"},
		{"https://hooks.example.com:0/", false, invalid, "port"},
		{"https://hooks.example.com:65536/", false, invalid, "port"},
		{"https://hooks.example.com:99999999999/", false, invalid, "port"},
		{"https://hooks.example.com/\x7f", false, invalid, "cannot parse"},
		{"https://hooks example.com/", false, invalid, "cannot parse"},
		{"https://" + strings.Repeat("a", MaxURLLength) + ".com/", false, invalid, "longer than"},
		// Literal addresses.
		{"http://127.0.0.1:8080/", false, blocked, "loopback"},
		{"http://10.1.2.3/", false, blocked, "RFC 1918"},
		{"http://169.254.169.254/latest/meta-data/", false, blocked, "metadata"},
		{"http://100.64.1.1/", false, blocked, "carrier-grade NAT"},
		{"http://0.0.0.0:8080/", false, blocked, "unspecified"},
		{"http://224.0.0.1/", false, blocked, "multicast"},
		{"http://255.255.255.255/", false, blocked, "broadcast"},
		{"http://[::1]/", false, blocked, "loopback"},
		{"http://[::]/", false, blocked, "unspecified"},
		{"http://[::ffff:127.0.0.1]/", false, blocked, "IPv4-mapped"},
		{"http://[::ffff:a9fe:a9fe]/", false, blocked, "metadata"},
		{"http://[fd00::1]/", false, blocked, "unique local"},
		{"http://[fe80::1%25eth0]/", false, blocked, "link-local"},
		{"http://[64:ff9b::a00:1]/", false, blocked, "NAT64"},
		{"http://%31%32%37.0.0.1/", false, invalid, "cannot parse"},
		// inet_aton forms that getaddrinfo would read as an address.
		{"http://2130706433/", false, blocked, "loopback"},
		{"http://0x7f000001/", false, blocked, "loopback"},
		{"http://0x7f.1/", false, blocked, "loopback"},
		{"http://0177.0.0.1/", false, blocked, "loopback"},
		{"http://127.1/", false, blocked, "loopback"},
		{"http://127.0.0.01/", false, blocked, "loopback"},
		{"http://0/", false, blocked, "unspecified"},
		{"http://012.0.0.1/", false, blocked, "RFC 1918"},
		{"http://169.254.43518/", false, blocked, "metadata"},
		{"http://134744072/", false, invalid, "write it as 8.8.8.8"},
		{"http://8.8.8.8./", false, invalid, "write it as 8.8.8.8"},
		{"http://08.0.0.1/", false, invalid, "not a valid IPv4"},
		{"http://1.2.3.4.5/", false, invalid, "not a valid IPv4"},
		{"http://256.0.0.1/", false, invalid, "not a valid IPv4"},
		{"http://4294967296/", false, invalid, "not a valid IPv4"},
		{"http://example.123/", false, invalid, "not a valid IPv4"},
		// Names, resolved through the injected resolver.
		{"https://internal.example.com/", false, blocked, "RFC 1918"},
		{"https://mixed.example.com/", false, blocked, "192.168.0.10"},
		{"https://metadata.example.com/", false, blocked, "metadata"},
		{"https://mapped.example.com/", false, blocked, "IPv4-mapped"},
		{"https://ula.example.com/", false, blocked, "unique local"},
		{"https://localhost:8080/", false, blocked, "localhost name"},
		{"https://api.LOCALHOST/", false, blocked, "localhost name"},
		{"https://nxdomain.example.com/", false, unresolved, "no such host"},
		{"https://empty.example.com/", false, unresolved, "no addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			p := New(WithResolver(testResolver()), WithHTTPSOnly(tt.httpsOn))
			err := p.CheckURL(context.Background(), tt.url)
			var (
				inv *InvalidURLError
				blk *BlockedError
				res *ResolveError
			)
			switch tt.want {
			case ok:
				if err != nil {
					t.Fatalf("CheckURL = %v, want nil", err)
				}
				return
			case invalid:
				if !errors.As(err, &inv) {
					t.Fatalf("CheckURL = %v (%T), want *InvalidURLError", err, err)
				}
			case blocked:
				if !errors.As(err, &blk) {
					t.Fatalf("CheckURL = %v (%T), want *BlockedError", err, err)
				}
				if blk.Host == "" {
					t.Fatalf("BlockedError without host: %v", err)
				}
			case unresolved:
				if !errors.As(err, &res) {
					t.Fatalf("CheckURL = %v (%T), want *ResolveError", err, err)
				}
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("CheckURL = %q, want it to mention %q", err, tt.mention)
			}
		})
	}
}

func TestCheckURLAllowList(t *testing.T) {
	p := New(WithResolver(testResolver()), WithAllowedPrefixes(
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("10.0.0.0/8"),
	))
	for _, u := range []string{
		"http://127.0.0.1:9000/hook",
		"http://[::ffff:127.0.0.1]:9000/hook",
		"https://internal.example.com/",
		"http://localhost:9000/", // the name is allowed once loopback is, and resolves to 127.0.0.1
	} {
		if err := p.CheckURL(context.Background(), u); err != nil {
			t.Errorf("CheckURL(%s) = %v, want allowed", u, err)
		}
	}
	// Allowing 127.0.0.1 opens neither the rest of 127/8 nor odd spellings of other addresses.
	for _, u := range []string{"http://127.0.0.2/", "http://2130706434/", "https://mixed.example.com/"} {
		var blk *BlockedError
		if err := p.CheckURL(context.Background(), u); !errors.As(err, &blk) {
			t.Errorf("CheckURL(%s) = %v, want *BlockedError", u, err)
		}
	}
	// An allowed address in inet_aton form is still refused as ambiguous.
	var inv *InvalidURLError
	if err := p.CheckURL(context.Background(), "http://2130706433/"); !errors.As(err, &inv) {
		t.Errorf("decimal loopback with loopback allowed = %v, want *InvalidURLError", err)
	}
}

func TestCheckURLHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := New(WithResolver(testResolver())).CheckURL(ctx, "https://hooks.example.com/")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckURL with cancelled context = %v, want context.Canceled", err)
	}
}

func TestParseLooseIPv4(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for invalid
	}{
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0X7F.0.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0177.0.0.01", "127.0.0.1"},
		{"10.0.65535", "10.0.255.255"},
		{"10.16777215", "10.255.255.255"},
		{"4294967295", "255.255.255.255"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"4294967296", ""},
		{"10.0.65536", ""},
		{"256.1", ""},
		{"1.2.3.256", ""},
		{"09", ""},
		{"0xg", ""},
		{"1..2", ""},
		{"1.2.3.4.5", ""},
		{"", ""},
		{"99999999999999999999999", ""},
	}
	for _, tt := range tests {
		got, ok := parseLooseIPv4(tt.in)
		if tt.want == "" {
			if ok {
				t.Errorf("parseLooseIPv4(%q) = %s, want invalid", tt.in, got)
			}
			continue
		}
		if !ok || got.String() != tt.want {
			t.Errorf("parseLooseIPv4(%q) = %s, %v; want %s", tt.in, got, ok, tt.want)
		}
	}
}
