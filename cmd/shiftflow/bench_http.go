package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// keepAliveClient sends the benchmark's measured requests: plain HTTP/1.1
// on keep-alive connections, one request at a time per connection, each
// written in one write and its answer read with http.ReadResponse. The load
// generator shares the two cores with the server it measures, and
// net/http's Transport hands every request between three goroutines (the
// caller, the connection's writer and its reader): about 7% of the CPU in a
// profile of the benchmark, spent on the measuring side.
type keepAliveClient struct {
	host, auth string
	idle       chan *keepAliveConn
}

type keepAliveConn struct {
	conn net.Conn
	br   *bufio.Reader
	buf  []byte
}

func newKeepAliveClient(base, token string, maxIdle int) (*keepAliveClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("keep-alive client: %s: only http", base)
	}
	return &keepAliveClient{host: u.Host, auth: "Bearer " + token, idle: make(chan *keepAliveConn, maxIdle)}, nil
}

func (c *keepAliveClient) get() (*keepAliveConn, error) {
	select {
	case kc := <-c.idle:
		return kc, nil
	default:
	}
	conn, err := net.Dial("tcp", c.host)
	if err != nil {
		return nil, err
	}
	return &keepAliveConn{conn: conn, br: bufio.NewReaderSize(conn, 4096)}, nil
}

func (c *keepAliveClient) put(kc *keepAliveConn) {
	select {
	case c.idle <- kc:
	default:
		kc.conn.Close()
	}
}

// post sends a JSON body and returns the status and the body of the answer.
// A connection that fails is closed and the request is not retried: a POST
// may have taken effect.
func (c *keepAliveClient) post(path string, body []byte) (int, []byte, error) {
	kc, err := c.get()
	if err != nil {
		return 0, nil, err
	}
	b := kc.buf[:0]
	b = append(b, "POST "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.host...)
	b = append(b, "\r\nAuthorization: "...)
	b = append(b, c.auth...)
	b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	kc.buf = b
	if _, err := kc.conn.Write(b); err != nil {
		kc.conn.Close()
		return 0, nil, err
	}
	res, err := http.ReadResponse(kc.br, nil)
	if err != nil {
		kc.conn.Close()
		return 0, nil, err
	}
	out, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.Close {
		kc.conn.Close()
		return res.StatusCode, out, err
	}
	c.put(kc)
	return res.StatusCode, out, nil
}
