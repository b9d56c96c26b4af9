package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

const (
	// connectTimeout bounds one TCP connect when the caller's context has
	// no earlier deadline.
	connectTimeout = 10 * time.Second
	// minAttemptTimeout keeps a slow first address from starving the rest,
	// as net.Dialer does when it tries addresses one after another.
	minAttemptTimeout = 2 * time.Second
)

// Control is a net.Dialer Control hook: it runs after DNS resolution, just
// before connect, with the address actually being dialled, and refuses it
// unless the policy allows it. Only TCP is allowed.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") {
		return fmt.Errorf("netguard: network %q is not allowed", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: cannot parse dialled address %q: %w", address, err)
	}
	if b := p.blocked(ap.Addr()); b != nil {
		return b
	}
	return nil
}

// Dialer returns a net.Dialer whose Control hook enforces the policy, for
// callers that bring their own transport.
func (p *Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// DialContext has net.Dialer.DialContext's signature. It resolves the host
// through the policy's resolver, refuses the host if any address is refused,
// then connects to the addresses in order; Control checks each address again
// at connect time. Refusals are *BlockedError values carrying the host.
func (p *Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("netguard: network %q is not allowed", network)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("netguard: dial address %q: %w", address, err)
	}
	addrs, err := p.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	addrs = ofFamily(addrs, network)
	if len(addrs) == 0 {
		return nil, &ResolveError{Host: host, Err: fmt.Errorf("no address usable with %s", network)}
	}
	d := p.Dialer()
	var firstErr error
	for i, a := range addrs {
		attemptCtx, cancel := attemptContext(ctx, len(addrs)-i)
		conn, err := d.DialContext(attemptCtx, network, net.JoinHostPort(a.String(), port))
		cancel()
		if err == nil {
			return conn, nil
		}
		var b *BlockedError
		if errors.As(err, &b) {
			b.Host = host
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// attemptContext gives one of `remaining` connection attempts its share of
// ctx's deadline.
func attemptContext(ctx context.Context, remaining int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || remaining <= 1 {
		return context.WithCancel(ctx)
	}
	left := time.Until(deadline)
	share := left / time.Duration(remaining)
	if share < minAttemptTimeout {
		share = min(minAttemptTimeout, left)
	}
	return context.WithTimeout(ctx, share)
}

func ofFamily(addrs []netip.Addr, network string) []netip.Addr {
	if network == "tcp" {
		return addrs
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if (network == "tcp4") == a.Unmap().Is4() {
			out = append(out, a)
		}
	}
	return out
}
