package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// Page is the envelope of every list response.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// encodeCursor makes an opaque cursor from a position.
func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pageParams reads ?limit= and ?cursor= (decoded into pos); it answers 422
// itself and returns false on bad values.
func pageParams(w http.ResponseWriter, r *http.Request, pos any) (limit int, ok bool) {
	limit = defaultPageSize
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter",
				FieldError{Field: "limit", Reason: "an integer between 1 and " + strconv.Itoa(maxPageSize)})
			return 0, false
		}
		limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			err = json.Unmarshal(b, pos)
		}
		if err != nil {
			problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter",
				FieldError{Field: "cursor", Reason: "not a cursor returned by this endpoint"})
			return 0, false
		}
	}
	return limit, true
}

// timeParam parses an RFC 3339 query parameter; absent gives nil.
func timeParam(w http.ResponseWriter, r *http.Request, name string) (*time.Time, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, true
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		problem(w, r, http.StatusUnprocessableEntity, "invalid query parameter",
			FieldError{Field: name, Reason: "an RFC 3339 time such as 2026-01-31T00:00:00Z"})
		return nil, false
	}
	return &t, true
}

// optional returns a pointer to s, or nil when empty (sqlc nullable args).
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// pageOf turns limit+1 rows into a page: the extra row only says another
// page exists, and the cursor points after the last row shown.
func pageOf[R, T any](rows []R, limit int, view func(R) T, cursor func(R) any) Page[T] {
	page := Page[T]{Items: make([]T, 0, min(len(rows), limit))}
	for i, row := range rows {
		if i == limit {
			page.NextCursor = encodeCursor(cursor(rows[i-1]))
			break
		}
		page.Items = append(page.Items, view(row))
	}
	return page
}

func same[T any](v T) T { return v }
