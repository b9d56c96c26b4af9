package approval

import (
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shiftflow/shiftflow/flow"
)

func TestStates(t *testing.T) {
	id, other := uuid.New(), uuid.New()
	v := func(n int) *flow.Instance { return &flow.Instance{Version: n, Status: flow.StatusRunning} }
	done := func(n int) *flow.Instance { return &flow.Instance{Version: n, Status: flow.StatusApproved} }
	tests := []struct {
		name    string
		do      func(s *States)
		org     string
		want    int // version; 0 = miss
		wantLen int
	}{
		{"miss", func(s *States) {}, "acme", 0, 0},
		{"put then get", func(s *States) { s.Put("acme", id, v(1)) }, "acme", 1, 1},
		{"another org never sees it", func(s *States) { s.Put("acme", id, v(1)) }, "globex", 0, 1},
		{"newer replaces", func(s *States) { s.Put("acme", id, v(1)); s.Put("acme", id, v(3)) }, "acme", 3, 1},
		{"a slow reader's older state does not", func(s *States) { s.Put("acme", id, v(3)); s.Put("acme", id, v(2)) }, "acme", 3, 1},
		{"forget", func(s *States) { s.Put("acme", id, v(3)); s.Forget(id); s.Put("acme", id, v(2)) }, "acme", 2, 1},
		{"a finished instance is kept only as its version", func(s *States) { s.Put("acme", id, v(1)); s.Put("acme", id, done(2)) }, "acme", 0, 1},
		{"so a slow reader's unfinished state is not cached again", func(s *States) { s.Put("acme", id, done(3)); s.Put("acme", id, v(2)) }, "acme", 0, 1},
		{"nil state ignored", func(s *States) { s.Put("acme", id, nil) }, "acme", 0, 0},
		{"least recently used goes first", func(s *States) {
			s.Put("acme", id, v(1))
			s.Put("acme", other, v(1))
			s.Get(ReaderWorker, "acme", id)
			s.Put("acme", uuid.New(), v(1)) // size 2: other goes
		}, "acme", 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStates(2)
			tt.do(s)
			got := 0
			if st, ok := s.Get(ReaderWorker, tt.org, id); ok {
				got = st.Version
			}
			if got != tt.want {
				t.Fatalf("version %d, want %d (0: not cached)", got, tt.want)
			}
			if s.Len() != tt.wantLen {
				t.Fatalf("len %d, want %d", s.Len(), tt.wantLen)
			}
		})
	}
	s := NewStates(2)
	s.Put("acme", id, v(1))
	s.Put("acme", other, v(1))
	s.Get(ReaderWorker, "acme", id)
	s.Put("acme", uuid.New(), v(1))
	if _, ok := s.Get(ReaderWorker, "acme", other); ok {
		t.Fatal("the least recently used instance was kept")
	}
	var none *States // a process without the approval pool
	none.Put("acme", id, v(1))
	none.Forget(id)
	if _, ok := none.Get(ReaderWorker, "acme", id); ok || none.Len() != 0 {
		t.Fatal("a nil cache must be empty")
	}
}

// Lookups counts every read by reader and result.
func TestStatesCountLookups(t *testing.T) {
	s := NewStates(2)
	s.Lookups = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lookups"}, []string{"reader", "result"})
	id := uuid.New()
	s.Get(ReaderAPI, "acme", id)
	s.Put("acme", id, &flow.Instance{Version: 1, Status: flow.StatusRunning})
	s.Get(ReaderAPI, "acme", id)
	s.Get(ReaderWorker, "acme", id)
	s.Get(ReaderWorker, "globex", id) // another org's instance is a miss
	for _, c := range []struct {
		reader, result string
		want           float64
	}{{ReaderAPI, "hit", 1}, {ReaderAPI, "miss", 1}, {ReaderWorker, "hit", 1}, {ReaderWorker, "miss", 1}} {
		if got := testutil.ToFloat64(s.Lookups.WithLabelValues(c.reader, c.result)); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.reader, c.result, got, c.want)
		}
	}
}
