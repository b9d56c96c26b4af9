package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
)

// Scopes an API key may hold.
const (
	ScopeApproval = "approval"
	ScopeSchedule = "schedule"
	ScopeWebhooks = "webhooks"
	ScopeOps      = "ops"
	ScopeAdmin    = "admin"
)

// AllScopes lists every valid scope.
var AllScopes = []string{ScopeApproval, ScopeSchedule, ScopeWebhooks, ScopeOps, ScopeAdmin}

// Principal is who is calling: an API key (with its org and scopes) or the
// operator's ADMIN_TOKEN (no org, admin routes only).
type Principal struct {
	KeyID      uuid.UUID
	OrgID      string
	Scopes     []string
	AdminToken bool
}

// Actor is the audit name of the principal.
func (p *Principal) Actor() string {
	if p.AdminToken {
		return "admin-token"
	}
	return "key:" + p.KeyID.String()
}

// Has reports whether the principal holds scope.
func (p *Principal) Has(scope string) bool { return slices.Contains(p.Scopes, scope) }

func principalFrom(r *http.Request) *Principal {
	if info := requestInfoFrom(r.Context()); info != nil {
		return info.Principal
	}
	return nil
}

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// GeneratedKey is a new key; Secret is shown once and never stored.
type GeneratedKey struct {
	Secret string
	Prefix string
	Hash   []byte
}

// GenerateKey makes a key "sfk_<prefix>_<secret>" with 160 random bits.
func GenerateKey() GeneratedKey {
	b := make([]byte, 25)
	_, _ = rand.Read(b)
	s := strings.ToLower(keyEncoding.EncodeToString(b))
	prefix := s[:8]
	secret := "sfk_" + prefix + "_" + s[8:]
	return GeneratedKey{Secret: secret, Prefix: prefix, Hash: HashKey(secret)}
}

// HashKey is how keys are stored; they carry enough entropy for a plain SHA-256.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// keyCache remembers key lookups briefly so each request does not hit the
// database; revocation through this process evicts at once, other processes
// see it within the TTL.
type keyCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[string]keyCacheEntry
}

type keyCacheEntry struct {
	key     dbsqlc.ApiKey
	expires time.Time
}

func (c *keyCache) get(hash []byte) (dbsqlc.ApiKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || time.Now().After(e.expires) {
		return dbsqlc.ApiKey{}, false
	}
	return e.key, true
}

func (c *keyCache) put(k dbsqlc.ApiKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[string(k.KeyHash)] = keyCacheEntry{key: k, expires: time.Now().Add(c.ttl)}
}

func (c *keyCache) evict(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.entries {
		if e.key.ID == id {
			delete(c.entries, h)
		}
	}
}

var errNoCredentials = errors.New("no credentials")

// authenticate resolves the bearer credential to a principal.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return nil, errNoCredentials
	}
	token = strings.TrimSpace(token)
	if at := s.deps.Config.AdminToken; at != "" && subtle.ConstantTimeCompare([]byte(token), []byte(at)) == 1 {
		return &Principal{AdminToken: true, Scopes: []string{ScopeAdmin}}, nil
	}
	if !strings.HasPrefix(token, "sfk_") || len(token) > 128 {
		return nil, errors.New("malformed API key")
	}
	hash := HashKey(token)
	key, ok := s.keys.get(hash)
	if !ok {
		var err error
		key, err = dbsqlc.New(s.deps.DB).GetAPIKeyByHash(ctx, hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errors.New("unknown API key")
		}
		if err != nil {
			return nil, err
		}
		s.keys.put(key)
		// last_used_at is advisory; never fail a request over it.
		_ = dbsqlc.New(s.deps.DB).TouchAPIKey(ctx, key.ID)
	}
	if key.RevokedAt != nil {
		return nil, errors.New("revoked API key")
	}
	return &Principal{KeyID: key.ID, OrgID: key.OrgID, Scopes: key.Scopes}, nil
}

// requireAuth answers 401 unless the request carries a valid credential.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r.Context(), r)
		if err != nil {
			if !errors.Is(err, errNoCredentials) && !strings.Contains(err.Error(), "API key") {
				s.internalError(w, r, err)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="shiftflow"`)
			detail := "send Authorization: Bearer <API key>"
			if !errors.Is(err, errNoCredentials) {
				detail = "the credential is not valid: " + err.Error()
			}
			problem(w, r, http.StatusUnauthorized, detail)
			return
		}
		info := requestInfoFrom(r.Context())
		info.Principal = p
		info.OrgID = p.OrgID
		info.Actor = p.Actor()
		next.ServeHTTP(w, r)
	})
}

// requireScope answers 403 unless the principal holds one of the scopes.
// The admin token only opens admin routes.
func requireScope(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := principalFrom(r)
			for _, sc := range scopes {
				if p.Has(sc) && (!p.AdminToken || sc == ScopeAdmin) {
					next.ServeHTTP(w, r)
					return
				}
			}
			if p.AdminToken {
				problem(w, r, http.StatusForbidden, "ADMIN_TOKEN only opens /api/v1/admin routes; create an API key for this org")
				return
			}
			problem(w, r, http.StatusForbidden, "this API key lacks the scope "+strings.Join(scopes, " or "))
		})
	}
}
