package netguard

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
)

// fakeResolver answers from a table; unknown names fail like NXDOMAIN.
// Each call to a name in `sequence` returns the next answer, to model DNS
// rebinding.
type fakeResolver struct {
	mu       sync.Mutex
	table    map[string][]string
	sequence map[string][][]string
	calls    map[string]int
}

var errNXDomain = errors.New("no such host")

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	host = strings.TrimSuffix(host, ".")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	n := r.calls[host]
	r.calls[host]++
	answer, ok := r.table[host]
	if seq, isSeq := r.sequence[host]; isSeq {
		answer, ok = seq[min(n, len(seq)-1)], true
	}
	if !ok {
		return nil, errNXDomain
	}
	out := make([]netip.Addr, 0, len(answer))
	for _, a := range answer {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func (r *fakeResolver) callCount(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}
