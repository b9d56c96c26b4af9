package netguard

import (
	"context"
	"net/netip"
	"testing"
)

func BenchmarkCheckIP(b *testing.B) {
	p := New(WithAllowedPrefixes(netip.MustParsePrefix("127.0.0.1/32")))
	addrs := []netip.Addr{
		netip.MustParseAddr("93.184.216.34"),
		netip.MustParseAddr("10.0.0.1"),
		netip.MustParseAddr("2606:4700:4700::1111"),
		netip.MustParseAddr("::ffff:169.254.169.254"),
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = p.CheckIP(addrs[i%len(addrs)])
		i++
	}
}

func BenchmarkCheckURL(b *testing.B) {
	p := New(WithResolver(fuzzResolver{}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.CheckURL(ctx, "https://hooks.example.com/shiftflow?x=1"); err != nil {
			b.Fatal(err)
		}
	}
}
