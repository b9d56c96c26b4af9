package roster

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Options control Solve.
type Options struct {
	// TimeLimit bounds the search; zero means no limit (then MaxSteps or
	// the context must end it).
	TimeLimit time.Duration
	// Seed makes the search reproducible: with Threads 1 and MaxSteps the
	// result depends on nothing else.
	Seed uint64
	// Threads is the number of search workers; 0 means runtime.NumCPU().
	Threads int
	// MaxSteps, when positive, stops each worker after that many
	// improvement steps (for reproducible runs independent of speed).
	MaxSteps int64
	// Progress, when set, receives the best roster's state at most every
	// 100 ms while it improves, and once at the end.
	Progress func(Progress)
	// Initial, when set, is the starting roster (e.g. the published one
	// being re-planned); otherwise the previous roster of the model, if
	// any, or an empty one.
	Initial Roster
}

// Progress reports the best roster found so far.
type Progress struct {
	BestPenalty int64 `json:"best_penalty"`
	Feasible    bool  `json:"feasible"`
	// HardViolations measures how far from feasible the best roster is (0
	// when feasible): weighted units of hard violation while solving (a
	// working-time hour counts 1, a day or shift 8), the number of hard
	// violations in the final report.
	HardViolations int64         `json:"hard_violations"`
	Elapsed        time.Duration `json:"elapsed"`
}

// TracePoint is one improvement of the best roster, for convergence plots.
type TracePoint struct {
	ElapsedMS int64 `json:"elapsed_ms"`
	Penalty   int64 `json:"penalty"`
	Feasible  bool  `json:"feasible"`
}

// Result is the best roster found with its independent evaluation.
type Result struct {
	Instance        string      `json:"instance"`
	Penalty         int64       `json:"penalty"`
	Feasible        bool        `json:"feasible"`
	ElapsedMS       int64       `json:"elapsed_ms"`
	FirstFeasibleMS int64       `json:"first_feasible_ms"` // -1 when none was found
	Seed            uint64      `json:"seed"`
	Threads         int         `json:"threads"`
	Steps           int64       `json:"steps"`
	Dates           []string    `json:"dates"`
	Roster          Roster      `json:"roster"`
	Breakdown       Breakdown   `json:"breakdown"`
	Violations      []Violation `json:"violations"`
	HardViolations  int         `json:"hard_violations"`
	// LowerBound is the LP bound on the penalty when it was computed
	// (column generation runs on problems of moderate size), and Optimal
	// says the penalty reached it: no roster can be better.
	LowerBound *float64     `json:"lower_bound,omitempty"`
	Optimal    bool         `json:"optimal"`
	Trace      []TracePoint `json:"trace,omitempty"`
}

func lowerBoundOf(lb float64) *float64 {
	if math.IsInf(lb, -1) {
		return nil
	}
	lb = math.Floor(lb*1000) / 1000
	return &lb
}

// ErrNoTimeLimit is returned when nothing would stop the search.
var ErrNoTimeLimit = errors.New("roster: Solve needs a TimeLimit, MaxSteps or a cancellable context")

// Solve searches for the roster with the fewest hard violations and then
// the lowest penalty. It is anytime: when the time limit ends or ctx is
// cancelled it returns the best roster found so far (within about 100 ms).
// The result's feasibility, penalty and explanation come from Evaluate,
// the independent evaluator, never from the search's own bookkeeping.
func Solve(ctx context.Context, m *Model, opt Options) (*Result, error) {
	return solveWith(ctx, m, opt, defaultParams)
}

func solveWith(ctx context.Context, m *Model, opt Options, prm params) (*Result, error) {
	if errs := m.Validate(); len(errs) > 0 {
		return nil, ValidationError(errs)
	}
	if opt.TimeLimit <= 0 && opt.MaxSteps <= 0 && ctx.Done() == nil {
		return nil, ErrNoTimeLimit
	}
	if opt.Initial != nil {
		if errs := checkRoster(m, opt.Initial); len(errs) > 0 {
			return nil, ValidationError(errs)
		}
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	began := time.Now()
	if opt.TimeLimit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, began.Add(opt.TimeLimit))
		defer cancel()
	}
	p := compile(m)
	// Penalties are never negative, so 0 is a lower bound from the start.
	sh := &shared{began: began, firstFeasible: -1, windowOffset: float64(opt.Seed%1000) / 1000}
	sh.bestTotal.Store(infCost)

	initial := p.startRoster(opt.Initial)
	var stop atomic.Bool
	sh.stop = &stop
	go func() {
		<-ctx.Done()
		stop.Store(true)
	}()

	done := make(chan struct{})
	var reporter sync.WaitGroup
	if opt.Progress != nil {
		reporter.Add(1)
		go func() {
			defer reporter.Done()
			t := time.NewTicker(25 * time.Millisecond)
			defer t.Stop()
			last := infCost
			var lastAt time.Time
			for {
				select {
				case <-done:
					return
				case <-t.C:
					// At most one report per 100 ms, and only on improvement.
					if b := sh.bestTotal.Load(); b < last && time.Since(lastAt) >= 100*time.Millisecond {
						last, lastAt = b, time.Now()
						opt.Progress(progressOf(b, time.Since(began)))
					}
				}
			}
		}()
	}

	var wg sync.WaitGroup
	workers := make([]*worker, threads)
	for i := range workers {
		workers[i] = newWorker(p, sh, opt.Seed+uint64(i)*0x9e3779b97f4a7c15, i, initial)
		workers[i].prm = prm.scaled(p)
		if i == 0 {
			workers[i].cgWork = lpWorkBudget(opt, threads)
		}
		workers[i].winWork = windowWork(p, opt, threads, i)
		workers[i].daysK = exactDaysK(p, threads, i)
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			w.run(&stop, opt.MaxSteps)
		}(workers[i])
	}
	wg.Wait()
	close(done)
	reporter.Wait()

	sh.mu.Lock()
	best := append([]uint8(nil), sh.best...)
	trace := append([]TracePoint(nil), sh.trace...)
	first := sh.firstFeasible
	lb, optimal := sh.lowerBound, sh.optimal
	if !sh.lpBound {
		lb = math.Inf(-1)
	}
	sh.mu.Unlock()
	var steps int64
	for _, w := range workers {
		steps += w.steps
	}
	roster := p.decode(best)
	ev, err := Evaluate(m, roster)
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(began)
	if opt.Progress != nil {
		opt.Progress(Progress{BestPenalty: ev.Penalty, Feasible: ev.Feasible, HardViolations: int64(ev.HardViolations), Elapsed: elapsed})
	}
	return &Result{
		Instance: m.Name, Penalty: ev.Penalty, Feasible: ev.Feasible, ElapsedMS: elapsed.Milliseconds(),
		FirstFeasibleMS: first, Seed: opt.Seed, Threads: threads, Steps: steps, Dates: p.dates,
		Roster: roster, Breakdown: ev.Breakdown, Violations: ev.Violations,
		HardViolations: ev.HardViolations, Trace: trace,
		LowerBound: lowerBoundOf(lb), Optimal: optimal && ev.Feasible,
	}, nil
}

// windowWork is the DP work one window LP of worker i may use; 0 keeps the
// worker on local search (the last of several on a small staff without
// weekend limits, see lsOnlyStaff).
func windowWork(p *problem, opt Options, threads, i int) int64 {
	if threads > 1 && i == threads-1 && p.E <= lsOnlyStaff && !p.weekendLimited() {
		return 0
	}
	return lpWorkBudget(opt, threads) / 4
}

// lpWorkBudget is the DP work the LP phase of worker 0 may use. It is
// derived from the options only, so single-threaded runs stay reproducible:
// about half the time limit at a nominal DP speed, all of it when other
// workers run the local search meanwhile.
func lpWorkBudget(opt Options, threads int) int64 {
	const unitsPerSecond = 20_000_000
	switch {
	case opt.TimeLimit > 0 && threads == 1:
		return int64(opt.TimeLimit.Seconds() * unitsPerSecond / 2)
	case opt.TimeLimit > 0:
		return int64(opt.TimeLimit.Seconds() * unitsPerSecond)
	}
	return max(opt.MaxSteps, 1) * 1000
}

func progressOf(total int64, elapsed time.Duration) Progress {
	return Progress{BestPenalty: total % hardWeight, HardViolations: total / hardWeight,
		Feasible: total < hardWeight, Elapsed: elapsed}
}

// startRoster is the initial roster: the given one, else the previous
// roster of the model, else all off; pinned values are applied on top.
func (p *problem) startRoster(initial Roster) []uint8 {
	m := p.model
	var x []uint8
	switch {
	case initial != nil:
		x = p.encode(initial)
	case m.Previous != nil:
		x = p.encode(m.Previous.Roster)
	default:
		x = make([]uint8, p.E*p.D)
	}
	// Values a hard cell rule forbids become the cheapest allowed value.
	for i := range x {
		base := i * p.V
		if p.allowed[base+int(x[i])] {
			continue
		}
		best := -1
		for v := 0; v < p.V; v++ {
			if p.allowed[base+v] && (best < 0 || p.static[base+v] < p.static[base+best]) {
				best = v
			}
		}
		x[i] = uint8(best)
	}
	return x
}

// shared is the state the workers cooperate through.
type shared struct {
	began         time.Time
	bestTotal     atomic.Int64
	mu            sync.Mutex
	best          []uint8
	trace         []TracePoint
	firstFeasible int64
	lowerBound    float64 // best lower bound on the penalty
	lpBound       bool    // lowerBound comes from the LP
	optimal       bool
	stop          *atomic.Bool
	windows       atomic.Uint64 // window LPs started, for windowStart
	windowOffset  float64       // set before the workers start
	weekendTried  map[int]int64 // weekend set's first weekend -> total it was last tried on, plus 1
	rootDone      bool          // worker 0's root LP has ended (solved or given up)
	weekendFrac   []int         // employees with a fractional weekend day in the root LP
}

func (sh *shared) finishRoot(weekendFrac []int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.rootDone, sh.weekendFrac = true, weekendFrac
}

// rootResult is the employees whose weekend days the root LP left
// fractional, and whether the root LP has ended.
func (sh *shared) rootResult() ([]int, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.weekendFrac, sh.rootDone
}

// firstWeekendTry reports whether no worker has run the weekend LP from
// weekend k on a roster of this total yet, and records that one now does.
// Its dive is deterministic: run again on the same roster it would only
// repeat itself.
func (sh *shared) firstWeekendTry(k int, total int64) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.weekendTried == nil {
		sh.weekendTried = map[int]int64{}
	}
	if sh.weekendTried[k] == total+1 {
		return false
	}
	sh.weekendTried[k] = total + 1
	return true
}

// windowStart places the next window LP among n starts: a golden-ratio
// sequence, so windows started one after the other (by any worker) lie
// far apart and together cover the horizon evenly; the seed sets where
// the sequence begins.
func (sh *shared) windowStart(n int) int {
	f := sh.windowOffset + float64(sh.windows.Add(1))*0.6180339887498949
	return int((f - math.Floor(f)) * float64(n))
}

func (sh *shared) offerBound(lb float64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.lowerBound = max(sh.lowerBound, lb)
	sh.lpBound = true
	sh.checkOptimal()
}

// checkOptimal stops the search once the best feasible roster's penalty
// reaches the lower bound (penalties are integers). Called with mu held.
func (sh *shared) checkOptimal() {
	best := sh.bestTotal.Load()
	if best < hardWeight && float64(best) <= math.Ceil(sh.lowerBound-1e-9) {
		sh.optimal = true
		if sh.stop != nil {
			sh.stop.Store(true)
		}
	}
}

// offer records x as the best roster if it beats the current best.
func (sh *shared) offer(total int64, x []uint8) bool {
	if total >= sh.bestTotal.Load() {
		return false
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if total >= sh.bestTotal.Load() {
		return false
	}
	sh.best = append(sh.best[:0], x...)
	sh.bestTotal.Store(total)
	sh.checkOptimal()
	el := time.Since(sh.began).Milliseconds()
	feasible := total < hardWeight
	if feasible && sh.firstFeasible < 0 {
		sh.firstFeasible = el
	}
	tp := TracePoint{ElapsedMS: el, Penalty: total % hardWeight, Feasible: feasible}
	if n := len(sh.trace); n > 0 && sh.trace[n-1].ElapsedMS == el {
		sh.trace[n-1] = tp
	} else {
		sh.trace = append(sh.trace, tp)
	}
	return true
}

// snapshot copies the best roster.
func (sh *shared) snapshot(dst []uint8) ([]uint8, int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return append(dst[:0], sh.best...), sh.bestTotal.Load()
}
