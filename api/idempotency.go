package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
)

// replayedHeaders are the response headers kept with an idempotent response.
var replayedHeaders = []string{"Content-Type", "Location", "Retry-After", "Preference-Applied"}

// recorder captures a response while passing it through.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent makes a creating POST safe to retry: the same Idempotency-Key
// and body replay the first response; the same key with a different body,
// or while the first request is still running, is a 409.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 {
			problem(w, r, http.StatusBadRequest, "Idempotency-Key is longer than 255 characters")
			return
		}
		if strings.IndexFunc(key, func(c rune) bool { return c < 0x20 || c > 0x7e }) >= 0 {
			problem(w, r, http.StatusBadRequest, "Idempotency-Key must be printable ASCII")
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				problem(w, r, http.StatusRequestEntityTooLarge, "the body exceeds the size limit")
				return
			}
			problem(w, r, http.StatusBadRequest, "cannot read the body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
		h.Write(body)
		hash := h.Sum(nil)

		p := principalFrom(r)
		scope := p.OrgID
		if p.AdminToken {
			scope = "admin-token"
		}
		ctx := r.Context()
		q := dbsqlc.New(s.deps.DB)
		expires := time.Now().Add(s.deps.Config.IdempotencyTTL)
		claimed, err := q.ClaimIdempotencyKey(ctx, dbsqlc.ClaimIdempotencyKeyParams{
			OrgID: scope, Key: key, Method: r.Method, Path: r.URL.Path, RequestHash: hash, ExpiresAt: expires,
		})
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if claimed == 0 {
			reclaimed, err := q.ReclaimExpiredIdempotencyKey(ctx, dbsqlc.ReclaimExpiredIdempotencyKeyParams{
				OrgID: scope, Key: key, Method: r.Method, Path: r.URL.Path, RequestHash: hash, ExpiresAt: expires,
			})
			if err != nil {
				s.internalError(w, r, err)
				return
			}
			if reclaimed == 0 {
				s.replayIdempotent(w, r, scope, key, hash)
				return
			}
		}

		rec := &recorder{ResponseWriter: w}
		completed := false
		defer func() {
			if completed {
				return
			}
			// Panic or 5xx: forget the key so the client can retry.
			_ = q.ReleaseIdempotencyKey(context.WithoutCancel(ctx), dbsqlc.ReleaseIdempotencyKeyParams{OrgID: scope, Key: key})
		}()
		next.ServeHTTP(rec, r)
		if rec.status >= 500 || rec.status == 0 {
			return
		}
		hdrs := map[string]string{}
		for _, name := range replayedHeaders {
			if v := rec.Header().Get(name); v != "" {
				hdrs[name] = v
			}
		}
		hj, _ := json.Marshal(hdrs)
		status := int32(rec.status)
		if err := q.CompleteIdempotencyKey(context.WithoutCancel(ctx), dbsqlc.CompleteIdempotencyKeyParams{
			OrgID: scope, Key: key, StatusCode: &status, ResponseHeaders: hj, ResponseBody: rec.body.Bytes(),
		}); err != nil {
			s.log(r).Error("cannot store idempotent response", "error", err)
			return
		}
		completed = true
	})
}

func (s *Server) replayIdempotent(w http.ResponseWriter, r *http.Request, scope, key string, hash []byte) {
	row, err := dbsqlc.New(s.deps.DB).GetIdempotencyKey(r.Context(), dbsqlc.GetIdempotencyKeyParams{OrgID: scope, Key: key})
	if errors.Is(err, pgx.ErrNoRows) {
		// Released between our claim and this read: ask the client to retry.
		w.Header().Set("Retry-After", "1")
		problem(w, r, http.StatusConflict, "a request with this Idempotency-Key just failed; retry")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !bytes.Equal(row.RequestHash, hash) {
		problem(w, r, http.StatusConflict, "this Idempotency-Key was used with a different request; use a new key for a new request")
		return
	}
	if row.StatusCode == nil {
		w.Header().Set("Retry-After", "1")
		problem(w, r, http.StatusConflict, "a request with this Idempotency-Key is still being processed")
		return
	}
	var hdrs map[string]string
	_ = json.Unmarshal(row.ResponseHeaders, &hdrs)
	for k, v := range hdrs {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(int(*row.StatusCode))
	_, _ = w.Write(row.ResponseBody)
}
