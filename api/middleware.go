package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
)

// requestInfo travels in the request context; handlers fill OrgID, Actor and
// Action, and the access log reports them.
type requestInfo struct {
	RequestID string
	OrgID     string
	Actor     string
	Action    string
	Error     string
	Principal *Principal
}

type ctxKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(ctxKey{}).(*requestInfo)
	return info
}

// setAction names the operation for logs and audit rows.
func setAction(r *http.Request, action string) {
	if info := requestInfoFrom(r.Context()); info != nil {
		info.Action = action
	}
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush supports streaming responses (the event stream).
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// observe is the outermost middleware: request id, panic recovery, access
// log and HTTP metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		info := &requestInfo{RequestID: id}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				s.deps.Log.Error("panic in handler", "request_id", id, "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
				info.Error = fmt.Sprint(rec)
				if sw.status == 0 {
					problem(sw, r, http.StatusInternalServerError, "the request could not be completed; report the request_id")
				}
			}
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			if m := s.deps.Metrics; m != nil {
				code := strconv.Itoa(status)
				m.HTTPRequests.WithLabelValues(r.Method, route, code).Inc()
				m.HTTPRequestDuration.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
				m.APIRequests.WithLabelValues(r.Method, route, code).Inc()
				m.APIRequestDuration.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
			}
			level := slog.LevelInfo
			switch {
			case status >= 500:
				level = slog.LevelError
			case route == "/health" || route == "/metrics" || route == "/ready":
				level = slog.LevelDebug
			}
			attrs := []slog.Attr{
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
				slog.String("path", r.URL.Path), slog.Int("status", status), slog.Int("bytes", sw.bytes),
				slog.Int64("duration_ms", elapsed.Milliseconds()), slog.String("ip", clientIP(r)),
				slog.String("org_id", info.OrgID), slog.String("actor", info.Actor), slog.String("action", info.Action),
			}
			if info.Error != "" {
				attrs = append(attrs, slog.String("error", info.Error))
			}
			s.deps.Log.LogAttrs(context.Background(), level, "http request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// limitBody caps request bodies; a declared oversized body is refused at once.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.deps.Config.HTTPMaxBodyBytes
		if r.ContentLength > limit {
			problem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// clientIP is the peer address; X-Forwarded-For is not trusted by default
// because nothing here knows which proxies are ours.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// log returns the logger with the request's fields.
func (s *Server) log(r *http.Request) *slog.Logger {
	info := requestInfoFrom(r.Context())
	if info == nil {
		return s.deps.Log
	}
	return s.deps.Log.With("request_id", info.RequestID, "org_id", info.OrgID, "actor", info.Actor, "action", info.Action)
}
