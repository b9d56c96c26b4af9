package netguard

import (
	"crypto/tls"
	"net/http"
	"time"
)

// DefaultTimeout is the whole-request timeout of NewHTTPClient, the low end of
// the 15-30 s the Standard Webhooks specification recommends.
const DefaultTimeout = 15 * time.Second

const defaultIdleConnsPerHost = 16

type clientConfig struct {
	timeout          time.Duration
	idleConnsPerHost int
}

// ClientOption configures NewHTTPClient.
type ClientOption func(*clientConfig)

// WithTimeout sets the whole-request timeout (connect to end of body);
// zero or negative keeps DefaultTimeout.
func WithTimeout(d time.Duration) ClientOption {
	return func(c *clientConfig) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithIdleConnsPerHost sets how many keep-alive connections are kept per
// receiver (default 16); concurrent deliveries to one receiver reuse them.
func WithIdleConnsPerHost(n int) ClientOption {
	return func(c *clientConfig) {
		if n > 0 {
			c.idleConnsPerHost = n
		}
	}
}

// NewHTTPClient returns a client for webhook delivery: every connection goes
// through DialContext, proxies from the environment are ignored (a proxy
// would connect on our behalf, past the checks), redirects are not followed
// (the 3xx response is returned as is), and each request is checked for
// scheme and user info before it is sent.
func (p *Policy) NewHTTPClient(opts ...ClientOption) *http.Client {
	cfg := clientConfig{timeout: DefaultTimeout, idleConnsPerHost: defaultIdleConnsPerHost}
	for _, opt := range opts {
		opt(&cfg)
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           p.DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4 * cfg.idleConnsPerHost,
		MaxIdleConnsPerHost:   cfg.idleConnsPerHost,
	}
	return &http.Client{
		Transport: &guardedTransport{policy: p, base: transport},
		Timeout:   cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// guardedTransport re-applies the URL rules that need no DNS, so a stored URL
// is judged by the policy in force at delivery time.
type guardedTransport struct {
	policy *Policy
	base   *http.Transport
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := t.policy.checkShape(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (t *guardedTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }
