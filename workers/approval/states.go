package approval

import (
	"sync"

	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shiftflow/shiftflow/flow"
)

// States keeps the latest committed state of recently used approvals in
// memory, so that neither the API's check nor the worker's batch has to read
// an instance back from PostgreSQL right after this process wrote it.
//
// An entry is a committed snapshot, never an uncommitted one, but it may be
// older than the database (another process changed the instance). That is
// safe by construction: the worker's writes carry the optimistic-lock
// version, so a batch applied to an old state fails and is applied again
// from a fresh read; and the API only trusts a cached state to let a command
// through (the worker decides), re-reading the database before it refuses
// one. States never change once stored (flow.Apply returns new ones), so
// entries are shared without copying.
type States struct {
	mu  sync.Mutex
	lru *simplelru.LRU[uuid.UUID, State]
	// Lookups, when set, counts Get calls by reader and result (hit, miss):
	// a low hit rate says APPROVAL_STATE_CACHE is smaller than the approvals
	// in progress.
	Lookups *prometheus.CounterVec
}

// Readers of the cache, the reader label of Lookups.
const (
	ReaderAPI    = "api"
	ReaderWorker = "worker"
)

// State is one cached instance. A finished instance is kept only as its
// version (Instance nil): few commands follow a final decision, and
// keeping whole finished states made the cache most of the live heap,
// which every garbage collection scans (at 1,000 approvals/s its cycles
// doubled to ~100 ms and set the latency tail). The version still stops a
// slow reader from caching an older, unfinished state again.
type State struct {
	Org      string
	Instance *flow.Instance
	Version  int
}

// NewStates holds up to size instances (least recently used go first).
func NewStates(size int) *States {
	if size <= 0 {
		size = 10000
	}
	l, _ := simplelru.NewLRU[uuid.UUID, State](size, nil) // errors only on size <= 0
	return &States{lru: l}
}

// Get returns the cached state of instance id in org for reader. A nil
// *States is an empty cache.
func (s *States) Get(reader, org string, id uuid.UUID) (*flow.Instance, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	st, ok := s.lru.Get(id)
	s.mu.Unlock()
	hit := ok && st.Org == org && st.Instance != nil
	if s.Lookups != nil {
		result := "miss"
		if hit {
			result = "hit"
		}
		s.Lookups.WithLabelValues(reader, result).Inc()
	}
	if !hit {
		return nil, false
	}
	return st.Instance, true
}

// Put records a committed state unless a newer one is cached: a slow reader
// never replaces what a writer stored after it read.
func (s *States) Put(org string, id uuid.UUID, in *flow.Instance) {
	if s == nil || in == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.lru.Peek(id); ok && old.Org == org && old.Version > in.Version {
		return
	}
	if in.Status.Terminal() {
		s.lru.Add(id, State{Org: org, Version: in.Version})
		return
	}
	s.lru.Add(id, State{Org: org, Instance: in, Version: in.Version})
}

// Forget drops an instance, e.g. when its state may have changed in a way
// the cache cannot see.
func (s *States) Forget(id uuid.UUID) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.lru.Remove(id)
	s.mu.Unlock()
}

// Len is the number of cached instances.
func (s *States) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}
