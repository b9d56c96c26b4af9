package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a local webhook endpoint on 127.0.0.1 counting requests.
func receiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func loopbackAllowed() Option {
	return WithAllowedPrefixes(netip.MustParsePrefix("127.0.0.1/32"))
}

func TestClientRefusesLoopbackReceiverWithoutAllowList(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	client := New().NewHTTPClient()

	resp, err := client.Post(srv.URL+"/hook", "application/json", strings.NewReader(`{}`))
	if err == nil {
		resp.Body.Close()
		t.Fatal("request to 127.0.0.1 succeeded without the allow-list")
	}
	var b *BlockedError
	if !errors.As(err, &b) {
		t.Fatalf("error %v (%T) is not a *BlockedError", err, err)
	}
	if b.Reason != "loopback" || b.IP != netip.MustParseAddr("127.0.0.1") || b.Host != "127.0.0.1" {
		t.Fatalf("BlockedError = %+v", b)
	}
	if hits.Load() != 0 {
		t.Fatalf("receiver saw %d requests", hits.Load())
	}
}

func TestClientReachesAllowedReceiver(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		w.Write(body)
	})
	opts, err := FromEnv(func(k string) string {
		if k == EnvAllowCIDRs {
			return "127.0.0.1/32"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	p := New(opts...)
	if err := p.CheckURL(context.Background(), srv.URL+"/hook"); err != nil {
		t.Fatalf("CheckURL: %v", err)
	}
	resp, err := p.NewHTTPClient().Post(srv.URL+"/hook", "application/json", strings.NewReader(`{"ok":true}`))
	if err != nil {
		t.Fatalf("request to allowed receiver: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || string(body) != `{"ok":true}` || hits.Load() != 1 {
		t.Fatalf("status %d, body %q, hits %d", resp.StatusCode, body, hits.Load())
	}
}

func TestClientResolvesNamesThroughPolicyResolver(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	res := &fakeResolver{table: map[string][]string{"receiver.test": {"127.0.0.1"}}}
	target := "http://receiver.test:" + strconv.Itoa(port) + "/hook"

	resp, err := New(WithResolver(res), loopbackAllowed()).NewHTTPClient().Get(target)
	if err != nil {
		t.Fatalf("allowed name: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || hits.Load() != 1 {
		t.Fatalf("status %d hits %d", resp.StatusCode, hits.Load())
	}

	_, err = New(WithResolver(res)).NewHTTPClient().Get(target)
	var b *BlockedError
	if !errors.As(err, &b) || b.Host != "receiver.test" {
		t.Fatalf("name resolving to loopback: %v, want *BlockedError for receiver.test", err)
	}
}

// DNS rebinding: the name is public when the webhook is created and points
// at loopback when the delivery connects. The dial-time check refuses it.
func TestDNSRebindingRefusedAtDelivery(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	res := &fakeResolver{sequence: map[string][][]string{
		"rebind.test": {{"93.184.216.34"}, {"127.0.0.1"}},
	}}
	p := New(WithResolver(res))
	target := "http://rebind.test:" + strconv.Itoa(port) + "/hook"
	if err := p.CheckURL(context.Background(), target); err != nil {
		t.Fatalf("CheckURL while public: %v", err)
	}
	_, err := p.NewHTTPClient().Get(target)
	var b *BlockedError
	if !errors.As(err, &b) || b.Reason != "loopback" || b.Host != "rebind.test" {
		t.Fatalf("delivery after rebinding: %v, want loopback *BlockedError", err)
	}
	if hits.Load() != 0 || res.callCount("rebind.test") != 2 {
		t.Fatalf("hits %d, lookups %d", hits.Load(), res.callCount("rebind.test"))
	}
}

// Control runs on the address actually dialled, whatever resolved it: a
// plain net.Dialer using the system resolver for "localhost" is refused.
func TestControlChecksConnectedAddress(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) {})
	port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	d := New().Dialer()
	for _, addr := range []string{"127.0.0.1:" + port, "localhost:" + port} {
		conn, err := d.DialContext(context.Background(), "tcp", addr)
		if err == nil {
			conn.Close()
			t.Fatalf("dial %s succeeded", addr)
		}
		var b *BlockedError
		if !errors.As(err, &b) || b.Reason != "loopback" {
			t.Fatalf("dial %s: %v, want loopback *BlockedError", addr, err)
		}
	}
	allowed := New(loopbackAllowed()).Dialer()
	conn, err := allowed.DialContext(context.Background(), "tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatalf("dial with loopback allowed: %v", err)
	}
	conn.Close()
	if hits.Load() != 0 {
		t.Fatalf("raw dials produced %d HTTP requests", hits.Load())
	}
	if err := New().Control("udp4", "8.8.8.8:53", nil); err == nil {
		t.Fatal("Control allowed UDP")
	}
	if err := New().Control("tcp4", "not-an-address", nil); err == nil {
		t.Fatal("Control allowed an unparsable address")
	}
}

func TestDialContextRejectsOtherNetworksAndFamilies(t *testing.T) {
	res := &fakeResolver{table: map[string][]string{"v6only.test": {"2606:4700:4700::1111"}}}
	p := New(WithResolver(res))
	if _, err := p.DialContext(context.Background(), "udp", "8.8.8.8:53"); err == nil {
		t.Fatal("udp dial allowed")
	}
	if _, err := p.DialContext(context.Background(), "tcp", "no-port"); err == nil {
		t.Fatal("address without port accepted")
	}
	_, err := p.DialContext(context.Background(), "tcp4", "v6only.test:443")
	var re *ResolveError
	if !errors.As(err, &re) {
		t.Fatalf("tcp4 dial to IPv6-only name: %v, want *ResolveError", err)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int64
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			followed.Add(1)
			return
		}
		http.Redirect(w, r, "/moved", http.StatusTemporaryRedirect)
	})
	resp, err := New(loopbackAllowed()).NewHTTPClient().Post(srv.URL+"/hook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("status %d, want the 307 itself", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "/moved" {
		t.Fatalf("Location %q", loc)
	}
	if followed.Load() != 0 {
		t.Fatal("redirect was followed")
	}
}

func TestClientHTTPSOnlyAtDelivery(t *testing.T) {
	srv, hits := receiver(t, func(w http.ResponseWriter, r *http.Request) {})
	_, err := New(loopbackAllowed(), WithHTTPSOnly(true)).NewHTTPClient().Get(srv.URL)
	var inv *InvalidURLError
	if !errors.As(err, &inv) || !strings.Contains(inv.Reason, "https") {
		t.Fatalf("http URL with HTTPS-only: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("request reached the receiver")
	}
	// User info is refused at delivery too, and the body is closed.
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("a", "b")
	body := &closeRecorder{Reader: strings.NewReader("{}")}
	req, _ := http.NewRequest(http.MethodPost, u.String(), body)
	if _, err := New(loopbackAllowed()).NewHTTPClient().Do(req); !errors.As(err, &inv) {
		t.Fatalf("URL with user info: %v", err)
	}
	if !body.closed {
		t.Fatal("request body not closed on refusal")
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	client := New(loopbackAllowed()).NewHTTPClient(WithTimeout(50 * time.Millisecond))
	if client.Timeout != 50*time.Millisecond {
		t.Fatalf("Timeout = %s", client.Timeout)
	}
	_, err := client.Get(srv.URL)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("slow receiver: %v, want a timeout", err)
	}
}

func TestClientDefaults(t *testing.T) {
	c := New().NewHTTPClient(WithTimeout(0), WithIdleConnsPerHost(-1))
	if c.Timeout != DefaultTimeout {
		t.Errorf("Timeout = %s, want %s", c.Timeout, DefaultTimeout)
	}
	tr := c.Transport.(*guardedTransport).base
	if tr.Proxy != nil {
		t.Error("transport uses a proxy; it would connect past the policy")
	}
	if tr.MaxIdleConnsPerHost != defaultIdleConnsPerHost {
		t.Errorf("MaxIdleConnsPerHost = %d", tr.MaxIdleConnsPerHost)
	}
	if c.CheckRedirect == nil {
		t.Error("redirects would be followed")
	}
}

// A proxy configured in the environment is not used: the request goes
// straight to the receiver, never to the proxy (which would connect on our
// behalf, past the policy).
func TestClientIgnoresEnvironmentProxy(t *testing.T) {
	target, targetHits := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	proxy, proxyHits := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	res := &fakeResolver{table: map[string][]string{"receiver.test": {"127.0.0.1"}}}
	port := strconv.Itoa(target.Listener.Addr().(*net.TCPAddr).Port)
	resp, err := New(WithResolver(res), loopbackAllowed()).NewHTTPClient().Get("http://receiver.test:" + port + "/hook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || targetHits.Load() != 1 || proxyHits.Load() != 0 {
		t.Fatalf("status %d, receiver hits %d, proxy hits %d", resp.StatusCode, targetHits.Load(), proxyHits.Load())
	}
}
