package roster

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
)

// params are the search's tuning knobs.
type params struct {
	cycleSteps  int64   // steps per temperature cycle
	tempHot     float64 // temperature at the start of a cycle
	tempRatio   float64 // cold / hot
	noise       int64   // DP cost noise for rebuilt rows
	pWindow     int     // percent of steps that re-optimise one window
	pRuin       int     // percent of ruin-and-recreate steps (the rest: swaps)
	ruinMin     int     // employees ruined at least
	ruinMax     int     // and at most
	winMin      int     // ruin window length bounds
	winMax      int
	syncSteps   int64 // steps between looks at the shared best
	polishSteps int64 // local search steps between dives
	pRelated    int   // percent of ruins placed on a cover shortfall
	pDay        int   // percent of steps that re-assign one whole day (dayMove)
	pTransfer   int   // percent of steps that move a shortfall to an employee at a limit (transferMove)
	pMerge      int   // percent of steps that join two half weekends (mergeWeekendMove)
}

var defaultParams = params{
	cycleSteps: 20000, tempHot: 10, tempRatio: 0.01, noise: 60,
	pWindow: 30, pRuin: 30, ruinMin: 2, ruinMax: 4, winMin: 4, winMax: 14,
	syncSteps: 5000, polishSteps: 5000, pRelated: 50, pDay: 10,
}

// longHorizonMixedWinMax is the longest ruin window over half a year or
// more with shifts of mixed lengths (see scaled).
const longHorizonMixedWinMax = 14

// scaled adapts the ruin sizes to the problem: long horizons need longer
// windows and more employees per ruin to move work around.
func (prm params) scaled(p *problem) params {
	if p.D > 42 {
		prm.winMin = max(prm.winMin, 7)
		prm.winMax = max(prm.winMax, min(28, p.D/3))
		prm.ruinMax = max(prm.ruinMax, 6)
		// Over a long horizon the limits (weekends, shifts per type,
		// minutes) bind far from where the cover is short.
		prm.pTransfer = 30
		if p.weekendLimited() {
			// Half weekends cost a shift of cover each where the weekends
			// are all used: 19 at 60 s, seeds 1-4, 3243-3506 against
			// 3367-3593; 24 at 300 s, 49041 against 50334.
			prm.pMerge = 25
		}
	}
	if p.D >= 182 && p.maxLengthUnits() > 1 {
		// A minutes limit multiplies a window DP's states by its length
		// times the longest shift in units of the lengths' gcd. Over half
		// a year with mixed shift lengths, half-length windows at about a
		// quarter of the DP work each move more in the time: measured on
		// instances 21, 23 and 24 (19, at 84 days, does better with 28, as
		// does 22, whose shifts are all 8 hours).
		prm.winMax = max(prm.winMin, min(prm.winMax, longHorizonMixedWinMax))
	}
	return prm
}

// worker is one search thread: its own roster state, DP and random source.
type worker struct {
	p     *problem
	sh    *shared
	id    int
	s     *state
	rng   *rand.Rand
	z     *dp
	steps int64

	cost  []int64
	pcost []int64 // pricedSolve's costs
	out   []uint8
	saved []uint8
	emps  []int
	order []int
	zero  []uint8

	best  int64 // best total this worker has seen
	temp  float64
	noise int64
	prm   params

	cgWork    int64 // DP work units the LP phase may use; 0 skips it
	cg        *colgen
	cellKey   []int32 // day*V+value of each cover cell
	rowBuf    []uint8
	dives     int
	lastDive  string // the previous dive's roster
	sameDives int    // dives in a row that returned it again
	nextDive  int64
	syncBuf   []uint8

	dayBuf   [1]int32
	flow     dayFlow
	dayMoves bool // dayMove applies to the problem (p.flowable)

	// Window LPs (windowLP) between local search phases: winLen days at a
	// time, longer once a sweep's worth of windows in a row failed.
	winWork  int64 // DP work one window LP may use; 0 turns them off
	winLen   int
	winFails int
	winNext  int64
	winSteps int64
	// Weekend LPs (weekendSet) take turns with the window LPs.
	weekendLPs bool

	// Exact-days descents (daysDescent) between local search phases.
	daysK    int // days an exact-days move frees; 0 turns the moves off
	daysNext int64
}

func newWorker(p *problem, sh *shared, seed uint64, id int, initial []uint8) *worker {
	return &worker{
		p: p, sh: sh, id: id,
		s:          newState(p, initial),
		rng:        rand.New(rand.NewPCG(seed, uint64(id)+1)),
		z:          newDP(p),
		cost:       make([]int64, p.D*p.V),
		out:        make([]uint8, p.D),
		saved:      make([]uint8, 0, p.D*8),
		zero:       make([]uint8, p.D),
		rowBuf:     make([]uint8, p.D),
		best:       infCost,
		prm:        defaultParams,
		dayMoves:   p.flowable(),
		weekendLPs: p.weekendLimited(),
	}
}

func (w *worker) run(stop *atomic.Bool, maxSteps int64) {
	w.z.stop = stop
	w.construct(stop)
	w.noteBest()
	if w.cgWork > 0 {
		w.startLP(stop)
	}
	lastImprove := w.steps
	bestSeen := w.best
	w.winLen = w.firstWindowLen()
	// The local search goes first: its cheap moves pay most on a fresh roster.
	w.winNext = w.steps + w.prm.polishSteps
	for !stop.Load() && (maxSteps <= 0 || w.steps < maxSteps) {
		if w.cg != nil && w.steps >= w.nextDive {
			w.diveOnce(stop)
			w.nextDive = w.steps + w.prm.polishSteps
			lastImprove = w.steps
			continue
		}
		if w.daysK > 0 && w.steps >= w.daysNext && w.rootSolved() {
			w.daysDescent(stop)
			w.daysNext = w.steps + w.prm.polishSteps
			if w.best < bestSeen {
				bestSeen, lastImprove = w.best, w.steps
			}
			continue
		}
		if w.cg == nil && w.winLen > 0 && w.steps >= w.winNext {
			w.windowStep(stop)
			w.winNext = w.steps + w.prm.polishSteps/10
			if w.best < bestSeen {
				bestSeen, lastImprove = w.best, w.steps
			}
			continue
		}
		w.step()
		w.steps++
		w.noteBest()
		if w.best < bestSeen {
			bestSeen, lastImprove = w.best, w.steps
		}
		// Every so often continue from the best roster any worker found
		// when this one has not improved for a while.
		if w.steps%w.prm.syncSteps == 0 && w.steps-lastImprove >= w.prm.syncSteps {
			if x, total := w.sh.snapshot(w.syncBuf); total < w.s.total {
				w.syncBuf = x
				w.s = newState(w.p, x)
				lastImprove = w.steps
			}
		}
	}
}

// startLP solves the LP relaxation by column generation; its bound is
// shared, and dives (diveOnce) turn it into rosters.
func (w *worker) startLP(stop *atomic.Bool) {
	var frac []int
	defer func() { w.sh.finishRoot(frac) }()
	began := w.z.work
	if w.p.E*w.p.D > maxRootCells && w.firstWindowLen() > 0 {
		return
	}
	// The root may take 1/maxRootShare of the budget; a root that needs
	// more is given up early (see optimize), leaving the thread to the
	// local search.
	g := w.newColgen(w.z.work + w.cgWork/maxRootShare)
	if g == nil {
		return
	}
	if !g.optimize(stop, 0, rootGap) {
		if !stop.Load() {
			// Out of budget: the LP so far may still round to a better
			// start for the local search.
			w.adopt(g.rounded())
		}
		return
	}
	w.sh.offerBound(g.lb)
	frac = g.weekendFractional()
	g.exact = w.p.E*w.p.D <= exactCells
	g.workLimit = began + w.cgWork
	// A dive may take as long as the root did, or an eighth of the budget.
	g.diveWork = max(w.z.work-began, w.cgWork/8)
	// A root that took under an eighth of the budget leaves time for many
	// dives: intensify around the last one (openBefore).
	g.deepTies = w.z.work-began < w.cgWork/8
	w.cg = g
	w.nextDive = w.steps
}

// maxRootCells is the most employees × days whose whole LP is solved
// when window LPs could run instead: instance 13's root (120 × 28) takes
// 76-95 s alone and so never finishes within 60 s, while window LPs bring
// it within 11% of the optimum.
const maxRootCells = 2500

// The root LP may use 1/maxRootShare of the LP budget.
const maxRootShare = 2

// exactCells is the largest employees × days for exact dives (colgen.exact).
// Beyond it, forcing what the LP decides keeps dives short, and that wins
// within seconds: on 20 × 28 (Curtois & Qu instance 7) exact dives ended
// 4-8 points worse at 10 s. On 16 × 28 (instance 5, 448 cells) exact dives
// reach the optimum and short ones do not (1145-1148 in 3 runs); on 18 × 28
// (instance 6, 504 cells) short dives, about 0.2 s each against 0.5-1 s,
// reached it in 5 of 14 runs at 10 s and exact ones in none of 6 (both with
// the deepest-first ties of openBefore).
const exactCells = 480

// adopt continues from roster x when it beats the current one.
func (w *worker) adopt(x []uint8) {
	cand := newState(w.p, x)
	if cand.total < w.s.total {
		w.s = cand
		w.noteBest()
	}
}

// diveOnce dives from the root LP to a roster, continues from it when it
// beats the current one, and then undoes the dive's fixings. Later dives
// also see the best roster's rows as columns and choose less greedily.
func (w *worker) diveOnce(stop *atomic.Bool) {
	g := w.cg
	var best []uint8
	if w.dives > 0 {
		best, _ = w.sh.snapshot(w.syncBuf)
		w.syncBuf = best
		g.random = w.rng
	}
	w.dives++
	rows, ok := g.dive(stop, best)
	// Branches that end without a roster (pruned by their bound, or dead
	// ends) are cheap: take a few more before the local search resumes.
	for tries := 0; ok && rows == nil && tries < 8; tries++ {
		rows, ok = g.dive(stop, best)
	}
	if !ok {
		w.cg = nil // out of budget or stopped: local search only from now on
		return
	}
	if rows == nil {
		return // a dead end; the next dive chooses differently
	}
	if g.truncated {
		// Dives take too long here: the local search gets the thread
		// back, from the rounded roster if that is better.
		w.cg = nil
	}
	x := append([]uint8(nil), w.s.x...)
	for e, row := range rows {
		copy(x[e*w.p.D:(e+1)*w.p.D], row)
	}
	// Dives from the root that keep returning the same roster have
	// nothing left to offer: the local search gets the thread back. (In
	// open branches the same roster is normal: it may lie in several.)
	if key := string(x); key == w.lastDive && len(g.open) == 0 {
		if w.sameDives++; w.sameDives >= 3 {
			w.cg = nil
		}
	} else {
		w.lastDive, w.sameDives = key, 0
	}
	if cand := newState(w.p, x); cand.total < w.s.total {
		w.s = cand
		w.noteBest()
	}
}

func (w *worker) noteBest() {
	if w.s.total < w.best {
		w.best = w.s.total
		w.sh.offer(w.s.total, w.s.x)
	}
}

// construct builds a first roster row by row, each row optimal against
// the rows already placed, then improves every row once more.
func (w *worker) construct(stop *atomic.Bool) {
	p := w.p
	order := w.rng.Perm(p.E)
	// A second pass improves each row against the completed others; on
	// large problems the search does that better than a full pass.
	passes := 2
	if p.E*p.D > 5000 {
		passes = 1
	}
	for pass := 0; pass < passes; pass++ {
		for _, e := range order {
			if stop.Load() {
				return
			}
			w.buildRow(e)
		}
	}
	for _, e := range order {
		if stop.Load() {
			return
		}
		w.repairRow(e)
	}
}

// repairRow rebuilds a row that still breaks a hard rule with a priced
// whole-row DP, else sweeps overlapping week-long windows over it (each
// optimal against the rest of the row, so violations spanning window edges
// get repaired too).
func (w *worker) repairRow(e int) {
	D := w.p.D
	if w.s.rowCost[e] >= hardWeight && D > 7 {
		// Few rows get here: afford one priced whole-row attempt.
		w.pricedRow(e)
	}
	for sweep := 0; sweep < 3 && w.s.rowCost[e] >= hardWeight; sweep++ {
		for a := 0; a < D && w.s.rowCost[e] >= hardWeight; a += 3 {
			w.reoptWindowNoise(e, a, min(D-1, a+6), 0)
		}
	}
}

// buildRow re-optimises a whole row: in one DP when the state space
// allows, else window by window. A window followed by days off only (a
// row being built) gets its share of the horizon limits, so the row can
// still meet them when its last window is placed.
func (w *worker) buildRow(e int) {
	p := w.p
	D := p.D
	est := w.z.windowStates(e, D) * int64(D)
	// Short rows: exact in one DP. Long rows: weekends and per-type limits
	// priced rather than counted (much smaller states), exact as fallback.
	if D <= 56 && est <= fullRowWork && w.reoptWindowLim(e, 0, D-1, 0, nil, true) {
		return
	}
	if est <= pricedRowWork && w.pricedRow(e) {
		return
	}
	if D > 56 && est <= fullRowWork && w.reoptWindowLim(e, 0, D-1, 0, nil, true) {
		return
	}
	// Rolling windows: optimise L days, keep the first half, move on.
	L := 7
	for _, l := range []int{14} {
		if l < D && w.z.windowStates(e, l)*int64(l) <= fullRowWork {
			L = l
			break
		}
	}
	step := max(L/2, 1)
	zero := w.zero[:D]
	clear(zero)
	for a := 0; a < D; a += step {
		b := min(D-1, a+L-1)
		var lim *dpLimits
		if b < D-1 {
			// Build on an empty tail, with a share of the horizon limits.
			w.s.apply([]rowChange{{e: e, a: a, nv: zero[a:]}})
			lim = w.prorated(e, b)
		}
		w.reoptWindowLim(e, a, b, 0, lim, false)
		if b == D-1 {
			break
		}
	}
}

// fullRowWork bounds the estimated DP states times days for which a whole
// row is optimised in one call; larger rows are built a week at a time.
const fullRowWork = 10_000_000

// pricedRowWork bounds pricedRow the way fullRowWork bounds buildRow.
const pricedRowWork = 12_000_000

// pricedRow builds e's whole row in one DP that prices weekends and
// per-type shifts instead of counting them in the state, raising the
// prices until the row keeps those limits. It reports false when no price
// works within a few rounds or the row breaks another hard rule.
func (w *worker) pricedRow(e int) bool {
	p := w.p
	cost := w.cost[:p.D*p.V]
	out := w.out[:p.D]
	w.fillCosts(e, 0, p.D-1, 0, cost)
	if !w.pricedSolve(e, cost, out) {
		return false
	}
	w.s.apply([]rowChange{{e: e, a: 0, nv: out}})
	return true
}

// pricedSolve writes to out e's whole row for costs base, with weekends
// and per-type shifts priced instead of counted in the DP state, raising
// the prices until the row keeps those limits. The row keeps every hard
// rule but need not be the cheapest; false when no price works within a
// few rounds.
func (w *worker) pricedSolve(e int, base []int64, out []uint8) bool {
	p := w.p
	V := p.V
	typePrice := make([]int64, V)
	var wePrice int64
	w.pcost = grow(w.pcost, len(base))
	cost := w.pcost[:len(base)]
	w.z.priced = true
	defer func() { w.z.priced, w.z.weekendPrice = false, 0 }()
	for round := 0; round < 30; round++ {
		copy(cost, base)
		for i := range cost {
			if v := i % V; v > 0 && cost[i] < infCost {
				cost[i] += typePrice[v]
			}
		}
		w.z.weekendPrice = wePrice
		if _, ok := w.z.solve(w.s, e, 0, p.D-1, cost, true, out); !ok {
			return false
		}
		done := true
		if l := p.maxWE[e]; l != noLimit {
			var n int32
			for _, days := range p.weekendDays {
				for _, d := range days {
					if out[d] != 0 {
						n++
						break
					}
				}
			}
			if n > l {
				done = false
				wePrice = max(2*wePrice, 128)
			}
		}
		for v := 1; v < V; v++ {
			l := p.maxType[e*V+v]
			if l == noLimit {
				continue
			}
			var n int32
			for _, x := range out {
				if x == uint8(v) {
					n++
				}
			}
			if n > l {
				done = false
				typePrice[v] = max(2*typePrice[v], 128)
			}
		}
		if done {
			return true
		}
	}
	return false
}

// prorated scales e's horizon limits to days 0..b.
func (w *worker) prorated(e, b int) *dpLimits {
	p := w.p
	// Shares follow the days the employee can work (not fixed off), so
	// time before a long leave gets more of the work.
	avail := func(d int) bool {
		for v := 1; v < p.V; v++ {
			if p.allowed[(e*p.D+d)*p.V+v] {
				return true
			}
		}
		return false
	}
	var upTo, total float64
	for d := 0; d < p.D; d++ {
		if avail(d) {
			total++
			if d <= b {
				upTo++
			}
		}
	}
	f := float64(b+1) / float64(p.D)
	if total > 0 {
		f = upTo / total
	}
	lim := &dpLimits{minMin: noLimit, maxMin: noLimit, maxWE: noLimit, maxType: make([]int32, p.V)}
	var maxLen int32
	for v := 1; v < p.V; v++ {
		maxLen = max(maxLen, p.length[v])
	}
	if l := p.minMin[e]; l != noLimit {
		lim.minMin = int32(float64(l) * f)
	}
	if l := p.maxMin[e]; l != noLimit {
		lim.maxMin = int32(math.Ceil(float64(l) * f))
		if lim.minMin != noLimit && lim.maxMin-lim.minMin < maxLen {
			lim.maxMin = lim.minMin + maxLen
		}
	}
	if l := p.maxWE[e]; l != noLimit && len(p.weekendDays) > 0 {
		// Weekends are shared out by their cover demand, not their number:
		// where demand grows through the horizon (instance 24: the last
		// weekends need three times the first ones), an even share spends
		// the weekends early and leaves the busy ones short.
		var seen, all, seenN, allN float64
		for _, days := range p.weekendDays {
			if avail(int(days[0])) || (len(days) > 1 && avail(int(days[1]))) {
				var dem float64
				for _, d := range days {
					dem += float64(p.demand[d])
				}
				all, allN = all+dem, allN+1
				if int(days[0]) <= b {
					seen, seenN = seen+dem, seenN+1
				}
			}
		}
		if all == 0 {
			seen, all = seenN, allN
		}
		if all > 0 {
			lim.maxWE = int32(math.Ceil(float64(l) * seen / all))
		}
	}
	for v := 0; v < p.V; v++ {
		lim.maxType[v] = noLimit
		if l := p.maxType[e*p.V+v]; l != noLimit {
			lim.maxType[v] = int32(math.Ceil(float64(l) * f))
		}
	}
	return lim
}

// reoptWindow replaces days a..b of e's row by the DP's best values against
// everybody else's current rows and returns the objective change.
func (w *worker) reoptWindow(e, a, b int) int64 {
	return w.reoptWindowNoise(e, a, b, 0)
}

// reoptWindowNoise is reoptWindow with a random extra cost in [0, noise)
// on each working value, to steer the DP toward other good rows; a window
// too large for one DP call is split.
func (w *worker) reoptWindowNoise(e, a, b int, noise int64) int64 {
	before := w.s.total
	if !w.reoptWindowLim(e, a, b, noise, nil, false) && a < b {
		mid := (a + b) / 2
		w.reoptWindowNoise(e, a, mid, noise)
		w.reoptWindowNoise(e, mid+1, b, noise)
	}
	return w.s.total - before
}

// reoptWindowLim runs the DP on days a..b of e's row (strict, then relaxed
// unless strictOnly) and applies the result; false when no DP succeeded.
func (w *worker) reoptWindowLim(e, a, b int, noise int64, lim *dpLimits, strictOnly bool) bool {
	p := w.p
	cost := w.cost[:(b-a+1)*p.V]
	w.fillCosts(e, a, b, noise, cost)
	out := w.out[:b-a+1]
	if _, ok := w.z.solveWithin(w.s, e, a, b, cost, true, lim, out); !ok {
		if strictOnly {
			return false
		}
		if _, ok := w.z.solveWithin(w.s, e, a, b, cost, false, lim, out); !ok {
			return false
		}
	}
	w.s.apply([]rowChange{{e: e, a: a, nv: out}})
	return true
}

// fillCosts sets cost[j*V+v] for e on day a+j: static cost plus cover
// marginal plus noise, infCost where a hard cell rule forbids v.
func (w *worker) fillCosts(e, a, b int, noise int64, cost []int64) {
	p := w.p
	V := p.V
	for j := 0; j <= b-a; j++ {
		d := a + j
		base := (e*p.D + d) * V
		for v := 0; v < V; v++ {
			if !p.allowed[base+v] {
				cost[j*V+v] = infCost
				continue
			}
			c := p.static[base+v]
			if v > 0 {
				c += w.s.marginal(e, d, uint8(v))
				if noise > 0 {
					c += w.rng.Int64N(noise)
				}
			}
			cost[j*V+v] = c
		}
	}
}

func (w *worker) step() {
	// Temperature cycles from hot to cold every cycleSteps steps.
	f := float64(w.steps%w.prm.cycleSteps) / float64(w.prm.cycleSteps)
	w.temp = w.prm.tempHot * math.Pow(w.prm.tempRatio, f)
	w.noise = w.prm.noise
	if w.prm.pMerge > 0 && w.rng.IntN(100) < w.prm.pMerge {
		w.mergeWeekendMove()
		return
	}
	if w.prm.pTransfer > 0 && w.rng.IntN(100) < w.prm.pTransfer {
		w.transferMove()
		return
	}
	switch r := w.rng.IntN(100); {
	case r < w.prm.pDay && w.dayMoves:
		d := w.rng.IntN(w.p.D)
		if w.rng.IntN(2) == 0 {
			if sd, _, ok := w.shortCell(); ok {
				d = sd
			}
		}
		w.dayMove(d)
	case r < w.prm.pWindow:
		w.windowMove()
	case r < w.prm.pWindow+w.prm.pRuin:
		w.ruinRecreate()
	default:
		w.swapMoves(200)
	}
}

func (w *worker) randomWindow(minLen, maxLen int) (int, int) {
	D := w.p.D
	n := min(D, minLen+w.rng.IntN(maxLen-minLen+1))
	a := w.rng.IntN(D - n + 1)
	return a, a + n - 1
}

func (w *worker) windowMove() {
	e := w.rng.IntN(w.p.E)
	// While the roster breaks hard rules, mostly work on a row that does.
	if w.s.total >= hardWeight && w.rng.IntN(2) == 0 {
		for i, start := 0, w.rng.IntN(w.p.E); i < w.p.E; i++ {
			if f := (start + i) % w.p.E; w.s.rowCost[f] >= hardWeight {
				e = f
				break
			}
		}
	}
	a, b := w.randomWindow(5, 14)
	w.reoptWindow(e, a, b)
}

// ruinRecreate clears a window of a few rows and rebuilds them. Half the
// time the window is placed on a day short of cover and the employees are
// ones who could fill it (free that day, or on another shift), which on
// large problems finds the useful neighbours far more often than chance.
func (w *worker) ruinRecreate() {
	p := w.p
	k := min(w.prm.ruinMin+w.rng.IntN(w.prm.ruinMax-w.prm.ruinMin+1), p.E)
	a, b := w.randomWindow(w.prm.winMin, w.prm.winMax)
	w.emps = w.emps[:0]
	if w.rng.IntN(100) < w.prm.pRelated {
		if d, v, ok := w.shortCell(); ok {
			n := b - a + 1
			a = min(max(0, d-w.rng.IntN(n)), p.D-n)
			b = a + n - 1
			for try := 0; try < 4*p.E && len(w.emps) < k; try++ {
				e := w.rng.IntN(p.E)
				if x := w.s.x[e*p.D+d]; x != v && p.allowed[(e*p.D+d)*p.V+int(v)] {
					w.addEmployee(e)
				}
			}
		}
	}
	w.addRandomEmployees(k)
	w.rebuild(a, b)
}

// transferMove gives a cover shortfall to an employee who must give
// something up far away to take it: a weekend it works when it is at its
// weekend limit, a shift of the same type when at that type's limit, or a
// working day when at its minutes limit. It re-optimises a window around
// that place with the thing forced off, then a window around the short
// cell, and keeps both or neither. Row moves one window at a time cannot
// do this: each half alone breaks a limit or loses cover. (Instance 22:
// a year of 50 employees whose weekends are the scarce resource.)
func (w *worker) transferMove() {
	p, s := w.p, w.s
	D, V := p.D, p.V
	d, v, ok := w.shortCell()
	if !ok {
		return
	}
	e := -1
	for try := 0; try < 2*p.E; try++ {
		f := w.rng.IntN(p.E)
		if s.x[f*D+d] != v && p.allowed[(f*D+d)*V+int(v)] {
			e = f
			break
		}
	}
	if e < 0 {
		return
	}
	row := s.x[e*D : (e+1)*D]
	half := 3 + w.rng.IntN(5)
	// What e has to give up, and where.
	var force []int32 // days of the source window e must not work (or not on v)
	onlyV := false
	if k := p.weekendOf[d]; k >= 0 && s.weCnt[e] >= p.maxWE[e] && p.maxWE[e] != noLimit && !worksAny(row, p.weekendDays[k]) {
		// Give up the weekend whose cover needs e least (a half-worked or
		// over-covered one), ties at random: a weekend picked at random
		// mostly leaves a new shortfall behind.
		pick, best, n := -1, int64(math.MinInt64), 0
		for kk, days := range p.weekendDays {
			if int32(kk) == k || !worksAny(row, days) {
				continue
			}
			var g int64 // the cover cost of e's shifts there
			for _, fd := range days {
				if x := row[fd]; x != 0 {
					g += s.marginal(e, int(fd), x)
				}
			}
			if g > best {
				pick, best, n = kk, g, 1
			} else if g == best {
				if n++; w.rng.IntN(n) == 0 {
					pick = kk
				}
			}
		}
		if pick < 0 {
			return
		}
		force = p.weekendDays[pick]
	} else if l := p.maxType[e*V+int(v)]; l != noLimit && s.typeCnt[e*V+int(v)] >= l {
		if force = w.someDay(row, func(x uint8) bool { return x == v }, d); force == nil {
			return
		}
		onlyV = true
	} else if l := p.maxMin[e]; l != noLimit && row[d] == 0 && s.minutes[e]+p.length[v] > l {
		if force = w.someDay(row, func(x uint8) bool { return x != 0 }, d); force == nil {
			return
		}
	} else {
		return // nothing to give up: the window moves reach this
	}
	a1, b1 := max(0, d-half), min(D-1, d+half)
	c := int(force[0])
	a2, b2 := max(0, c-half), min(D-1, int(force[len(force)-1])+half)
	if b2 >= a1 && a2 <= b1 {
		return // overlapping windows: one window move covers it
	}
	before := s.total
	w.saved = append(w.saved[:0], row...)
	cost := w.cost[:(b2-a2+1)*V]
	w.fillCosts(e, a2, b2, w.noise, cost)
	for _, fd := range force {
		j := (int(fd) - a2) * V
		for u := 1; u < V; u++ {
			if !onlyV || u == int(v) {
				cost[j+u] = infCost
			}
		}
	}
	if !w.solveApply(e, a2, b2, cost) {
		return
	}
	if w.reoptWindowLim(e, a1, b1, w.noise, nil, true) && w.accept(s.total-before) {
		return
	}
	s.apply([]rowChange{{e: e, a: 0, nv: w.saved[:D]}})
}

// solveApply re-solves days a..b of e's row at costs the caller filled
// (with cells forced on or off) and applies the result; false when no row
// fits.
func (w *worker) solveApply(e, a, b int, cost []int64) bool {
	out := w.out[:b-a+1]
	if _, ok := w.z.solveWithin(w.s, e, a, b, cost, true, nil, out); !ok {
		return false
	}
	w.s.apply([]rowChange{{e: e, a: a, nv: out}})
	return true
}

// worksAny reports whether row has work on any of days.
func worksAny(row []uint8, days []int32) bool {
	for _, d := range days {
		if row[d] != 0 {
			return true
		}
	}
	return false
}

// someDay picks a random day of row other than skip whose value matches,
// as a one-day slice; nil when there is none.
func (w *worker) someDay(row []uint8, match func(uint8) bool, skip int) []int32 {
	n := 0
	for d, x := range row {
		if d != skip && match(x) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	i := w.rng.IntN(n)
	for d, x := range row {
		if d != skip && match(x) {
			if i == 0 {
				w.dayBuf[0] = int32(d)
				return w.dayBuf[:1]
			}
			i--
		}
	}
	return nil
}

// shortCell samples a cover cell below its requirement: its day and value.
func (w *worker) shortCell() (int, uint8, bool) {
	p := w.p
	C := len(p.cellReq)
	if C == 0 {
		return 0, 0, false
	}
	if w.cellKey == nil {
		w.cellKey = make([]int32, C)
		for k := 0; k < p.D*p.V; k++ {
			for _, c := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
				w.cellKey[c] = int32(k)
			}
		}
	}
	// Uniform over the short cells: random probes first (cheap when many
	// are short), else one pass choosing by reservoir sampling. (Taking
	// the first short cell after a random start picks the one after the
	// longest covered stretch almost every time: on instance 24, whose
	// shortfalls gather in the last weeks, nearly always the same few.)
	pick := -1
	for i := 0; i < 32; i++ {
		if c := w.rng.IntN(C); w.isShort(c) {
			pick = c
			break
		}
	}
	if pick < 0 {
		n := 0
		for c := 0; c < C; c++ {
			if w.isShort(c) {
				n++
				if w.rng.IntN(n) == 0 {
					pick = c
				}
			}
		}
	}
	if pick < 0 {
		return 0, 0, false
	}
	k := int(w.cellKey[pick])
	return k / p.V, uint8(k % p.V), true
}

// addRandomEmployees extends w.emps to k distinct employees.
func (w *worker) addRandomEmployees(k int) {
	for len(w.emps) < k {
		w.addEmployee(w.rng.IntN(w.p.E))
	}
}

func (w *worker) addEmployee(e int) bool {
	for _, x := range w.emps {
		if x == e {
			return false
		}
	}
	w.emps = append(w.emps, e)
	return true
}

// rebuild clears days a..b of the employees in w.emps, rebuilds them one
// by one with the DP in random order, and keeps the result if accepted.
func (w *worker) rebuild(a, b int) {
	p := w.p
	n := b - a + 1
	before := w.s.total
	w.saved = w.saved[:0]
	zero := w.zero[:n]
	for _, e := range w.emps {
		w.saved = append(w.saved, w.s.x[e*p.D+a:e*p.D+b+1]...)
		for d := a; d <= b; d++ {
			zero[d-a] = 0
			if !p.allowed[(e*p.D+d)*p.V] {
				zero[d-a] = w.s.x[e*p.D+d]
			}
		}
		w.s.apply([]rowChange{{e: e, a: a, nv: zero}})
	}
	order := append(w.order[:0], w.emps...)
	w.order = order
	for i := len(order) - 1; i > 0; i-- {
		j := w.rng.IntN(i + 1)
		order[i], order[j] = order[j], order[i]
	}
	for _, e := range order {
		w.reoptWindowNoise(e, a, b, w.noise)
	}
	if w.accept(w.s.total - before) {
		return
	}
	for i, e := range w.emps {
		w.s.apply([]rowChange{{e: e, a: a, nv: w.saved[i*n : (i+1)*n]}})
	}
}

func (w *worker) accept(delta int64) bool {
	if delta <= 0 {
		return true
	}
	if w.temp <= 0 {
		return false
	}
	return w.rng.Float64() < math.Exp(-float64(delta)/w.temp)
}

// swapMoves tries exchanges of a block of days between two employees,
// which keep cover unchanged, and single-cell changes.
func (w *worker) swapMoves(n int) {
	p := w.p
	if p.E < 2 {
		return
	}
	var buf1, buf2 [8]uint8
	for i := 0; i < n; i++ {
		e1 := w.rng.IntN(p.E)
		e2 := w.rng.IntN(p.E - 1)
		if e2 >= e1 {
			e2++
		}
		L := 1 + w.rng.IntN(min(4, p.D))
		a := w.rng.IntN(p.D - L + 1)
		r1 := w.s.x[e1*p.D+a : e1*p.D+a+L]
		r2 := w.s.x[e2*p.D+a : e2*p.D+a+L]
		same := true
		ok := true
		for j := 0; j < L; j++ {
			same = same && r1[j] == r2[j]
			ok = ok && p.allowed[(e1*p.D+a+j)*p.V+int(r2[j])] && p.allowed[(e2*p.D+a+j)*p.V+int(r1[j])]
		}
		if same || !ok {
			continue
		}
		nv1, nv2 := buf1[:L], buf2[:L]
		copy(nv1, r2)
		copy(nv2, r1)
		mv := []rowChange{{e: e1, a: a, nv: nv1}, {e: e2, a: a, nv: nv2}}
		if d := w.s.moveDelta(mv); w.accept(d) {
			w.s.apply(mv)
		}
	}
}

// windowLP re-optimises days a..b of every row at once: column generation
// over the window with the rest of the roster fixed, then one dive. The
// dive's roster replaces the current one when it is better.
func (w *worker) windowLP(stop *atomic.Bool, a, b int, budget int64) bool {
	return w.windowLPDays(stop, a, b, nil, budget)
}

// windowLPDays is windowLP over the days of a..b that free marks (all of
// them when free is nil); the other days stay as they are.
func (w *worker) windowLPDays(stop *atomic.Bool, a, b int, free []bool, budget int64) bool {
	g := w.newColgenDays(w.z.work+budget, a, b, free)
	if g == nil {
		return false
	}
	if !g.optimize(stop, 0, diveGap) {
		return false
	}
	g.workLimit = w.z.work + budget
	g.diveWork = budget
	rows, ok := g.dive(stop, nil)
	if !ok || rows == nil {
		return false
	}
	D := w.p.D
	splice := func(base []uint8) *state {
		x := append([]uint8(nil), base...)
		for e, row := range rows {
			switch {
			case row == nil:
			case free == nil:
				copy(x[e*D+a:e*D+b+1], row[a:b+1])
			default:
				for d := a; d <= b; d++ {
					if free[d] {
						x[e*D+d] = row[d]
					}
				}
			}
		}
		return newState(w.p, x)
	}
	// Another worker may have improved other days meanwhile: the window's
	// days go onto the best roster now known when that keeps both gains.
	if latest, total := w.sh.snapshot(w.syncBuf); total < w.s.total {
		w.syncBuf = latest
		if cand := splice(latest); cand.total < total {
			w.s = cand
			w.noteBest()
			return true
		}
	}
	if cand := splice(w.s.x); cand.total < w.s.total {
		w.s = cand
		w.noteBest()
		return true
	}
	return false
}

// lsOnlyStaff: with at most this many employees and several threads, one
// worker never runs window LPs. Its local search steps are cheap there and
// worth a thread of their own (instance 19, 60 s: median 3482 over seven
// runs against 3556 over five with window LPs on both threads; 22: 42859
// against 44783), while larger staffs need every thread on windows (13:
// 1520-1535 against 1397-1437; 21 and 23 also did worse). Where weekends
// are limited, weekend LPs (weekendSet) changed that: on 19 at 60 s both
// threads with window and weekend LPs gave 3239-3347 (six seeds) against
// 3250-3473 (five) with one on local search alone, and 3255-3457 (four)
// with that one on weekend LPs only; 20 and 22 did about as well either
// way. So the rule now holds only without weekend limits.
const lsOnlyStaff = 50

// minWindowLen is the first window LP's length in days.
const minWindowLen = 7

// firstWindowLen is the length window LPs start with: 0 when they are off
// or no window fits the dense LP.
func (w *worker) firstWindowLen() int {
	p := w.p
	if w.winWork <= 0 || p.fair || p.D < 2*minWindowLen {
		return 0
	}
	// Where the whole LP fits and is affordable, its dives and the local
	// search do better on their own (instance 5 lost its optimum at 10 s
	// with window LPs taking turns).
	if p.E*p.D <= maxRootCells && p.E+len(p.cellReq) <= maxMasterRows {
		return 0
	}
	// A window LP whose shortest window is already a large master costs
	// more than the local search gains meanwhile.
	if p.E+w.windowCells(minWindowLen) > maxFirstWindowRows {
		return 0
	}
	if L := min(minWindowLen, w.maxWindowLen()); L >= minWindowLen {
		return L
	}
	return 0
}

// maxFirstWindowRows bounds the master of a first (week-long) window LP.
// On instance 24 (150 employees, 32 shift types: 374 rows) a week's
// window LP took 1.3 s and gained 157 per second over a 60 s run, while
// the local search gained 1125 per second; without window LPs it ended
// at 84596 against 86868-88681 at 60 s, and at 300 s at 61638 against
// 64966. The
// largest first windows that pay are 13's (120 employees, 18 shift types:
// 246 rows; its window LPs take 0.1-0.2 s).
const maxFirstWindowRows = 300

// windowCells is the number of cover cells in the first L days.
func (w *worker) windowCells(L int) int {
	p := w.p
	return int(p.dsStart[min(L, p.D)*p.V] - p.dsStart[0])
}

// maxWindowLen is the longest window whose LP fits maxMasterRows, at most
// the horizon.
func (w *worker) maxWindowLen() int {
	p := w.p
	L := 0
	for L < p.D {
		if p.E+w.windowCells(L+1) > maxMasterRows {
			break
		}
		L++
	}
	return L
}

// windowStep runs one window LP at a random place; after a sweep's worth
// of windows in a row without improvement the windows get longer, which
// frees the rules that span them (weekends, minutes over the horizon).
func (w *worker) windowStep(stop *atomic.Bool) {
	D, L := w.p.D, w.winLen
	// Windows improve the best roster, not wherever annealing wandered.
	if x, total := w.sh.snapshot(w.syncBuf); total < w.s.total {
		w.syncBuf = x
		w.s = newState(w.p, x)
	}
	// Where weekends are limited, every other step is a weekend LP unless
	// it was tried on this roster already.
	w.winSteps++
	if w.weekendLPs && w.winSteps%2 == 1 {
		if free, k, a, b := w.weekendSet(); free != nil && w.sh.firstWeekendTry(k, w.s.total) {
			w.windowLPDays(stop, a, b, free, w.winWork)
			return
		}
	}
	a := w.sh.windowStart(D - L + 1)
	if w.windowLP(stop, a, a+L-1, w.winWork) {
		w.winFails = 0
		return
	}
	if w.winFails++; w.winFails >= 2*D/L {
		w.winFails = 0
		w.winLen = min(2*L, w.maxWindowLen(), D)
	}
}

// weekendSet marks for a window LP the days of up to four consecutive
// weekends from a random one (k0), as many as keep the master within
// maxMasterRows; the weekdays between them stay fixed. Where weekends are
// limited they are the scarce resource, and moving one from an employee
// to another needs both weekends in one LP. Contiguous windows long
// enough for that are costly: on instance 13 (120 employees, 28 days),
// two-week windows took 7-8 s each, a week's 0.1-0.4 s, and its four
// weekends alone 0.1-0.3 s. With them 13 reached 1471 at 13 s, where
// week-long windows had stalled near 1866; at 60 s it gave 1393 (seed 1),
// 1385, 1388 and 1505 (seeds 2, 4, 6) against 1388-1602 in seven runs
// without.
func (w *worker) weekendSet() (free []bool, k0, a, b int) {
	p := w.p
	nk := len(p.weekendDays)
	if nk < 2 {
		return nil, 0, 0, 0
	}
	free = make([]bool, p.D)
	rows, picked := p.E, 0
	a, b = p.D, -1
	k0 = w.rng.IntN(nk - min(nk, 4) + 1)
	for k := k0; k < nk && k < k0+4; k++ {
		days := p.weekendDays[k]
		add := 0
		for _, d := range days {
			add += int(p.dsStart[(int(d)+1)*p.V] - p.dsStart[int(d)*p.V])
		}
		if rows+add > maxMasterRows {
			break
		}
		rows += add
		picked++
		for _, d := range days {
			free[d] = true
			a, b = min(a, int(d)), max(b, int(d))
		}
	}
	if picked < 2 {
		return nil, 0, 0, 0
	}
	return free, k0, a, b
}

// mergeWeekendMove joins two half weekends: employee a works one day of a
// weekend and b only the other day. a takes b's shift there (a full
// weekend), b gives that weekend up and works a short weekend cell
// elsewhere instead. With the weekends all used, each half weekend is a
// shift of weekend cover lost (instances 19 and 24); no single-row move
// or transfer finds this, since each part alone loses cover or breaks
// b's weekend limit.
func (w *worker) mergeWeekendMove() {
	p, s := w.p, w.s
	D, V := p.D, p.V
	nk := len(p.weekendDays)
	if nk == 0 {
		return
	}
	// A weekend with a half worked on each day: a works da only, b db
	// only, on a shift a may take. Weekends from a random start.
	k, a, b, da, db := -1, -1, -1, -1, -1
	for i, start := 0, w.rng.IntN(nk); i < nk && k < 0; i++ {
		kk := (start + i) % nk
		days := p.weekendDays[kk]
		if len(days) != 2 {
			continue
		}
		da, db = int(days[0]), int(days[1])
		if w.rng.IntN(2) == 0 {
			da, db = db, da
		}
		na, nb := 0, 0
		for f := 0; f < p.E; f++ {
			xa, xb := s.x[f*D+da], s.x[f*D+db]
			switch {
			case xa != 0 && xb == 0:
				if na++; w.rng.IntN(na) == 0 {
					a = f
				}
			case xb != 0 && xa == 0:
				if nb++; w.rng.IntN(nb) == 0 {
					b = f
				}
			}
		}
		if na > 0 && nb > 0 && p.allowed[(a*D+db)*V+int(s.x[b*D+db])] {
			k = kk
		}
	}
	if k < 0 {
		return
	}
	rowA := s.x[a*D : (a+1)*D]
	vb := int(s.x[b*D+db])
	// b's other weekend: one with a short cell b could fill.
	target, n := -1, 0
	for kk, days := range p.weekendDays {
		if kk == k || worksAny(s.x[b*D:(b+1)*D], days) {
			continue
		}
		for _, fd := range days {
			if w.shortAt(b, int(fd)) {
				if n++; w.rng.IntN(n) == 0 {
					target = int(fd)
				}
			}
		}
	}
	if target < 0 {
		return
	}
	half := 3 + w.rng.IntN(5)
	lo, hi := min(da, db), max(da, db)
	a1, b1 := max(0, lo-half), min(D-1, hi+half)
	a2, b2 := max(0, target-half), min(D-1, target+half)
	if b2 >= a1 && a2 <= b1 {
		return
	}
	before := s.total
	w.saved = append(w.saved[:0], rowA...)
	w.saved = append(w.saved, s.x[b*D:(b+1)*D]...)
	undo := func() {
		s.apply([]rowChange{{e: a, a: 0, nv: w.saved[:D]}, {e: b, a: 0, nv: w.saved[D : 2*D]}})
	}
	// b first gives up the weekend, so that a's shift there is not
	// over-cover when a's window is priced.
	cost := w.cost[:(b1-a1+1)*V]
	w.fillCosts(b, a1, b1, w.noise, cost)
	for _, fd := range [2]int{da, db} {
		j := (fd - a1) * V
		for u := 1; u < V; u++ {
			cost[j+u] = infCost
		}
	}
	if !w.solveApply(b, a1, b1, cost) {
		return // nothing applied yet
	}
	w.fillCosts(a, a1, b1, w.noise, cost)
	for u := 0; u < V; u++ {
		if u != vb {
			cost[(db-a1)*V+u] = infCost
		}
	}
	cost[(da-a1)*V] = infCost
	if !w.solveApply(a, a1, b1, cost) {
		undo()
		return
	}
	if w.reoptWindowLim(b, a2, b2, w.noise, nil, true) && w.accept(s.total-before) {
		return
	}
	undo()
}

// weekendLimited reports whether some employee has a weekend limit.
func (p *problem) weekendLimited() bool {
	for _, l := range p.maxWE {
		if l != noLimit {
			return true
		}
	}
	return false
}

// isShort reports whether cover cell c is below a requirement that
// costs something when missed.
func (w *worker) isShort(c int) bool {
	return w.s.cnt[c] < w.p.cellReq[c] && w.p.cellUnder[c] > 0
}

// shortAt reports whether day d has a cover cell below its requirement
// that e may fill.
func (w *worker) shortAt(e, d int) bool {
	p := w.p
	for k := d * p.V; k < (d+1)*p.V; k++ {
		for _, c := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
			if w.isShort(int(c)) && p.allowed[(e*p.D+d)*p.V+k%p.V] {
				return true
			}
		}
	}
	return false
}

// Exact-days moves: see exactDaysMove.
const (
	// daysShare is the share of the horizon a move frees, in percent.
	daysShare = 75
	// daysFails moves in a row without gain end a descent.
	daysFails = 10
	// daysWork is the DP work one move may use (about 0.2 s); on 20 × 28
	// (instance 7) a move takes 0.4-1.1 million.
	daysWork = 4_000_000
)

// exactDaysK is the number of days worker i's exact-days moves free, 0
// for none. They run on the last worker (the others keep the root LP's
// dives and the local search; a single worker takes turns at all of them)
// where the whole LP fits and a move's sub-problem is small enough for
// exact dives (exactCells). With one thread, 10 s runs on instances 5, 6
// and 7 reached the optimum in 3, 3 and 2 of 3 seeds with them, against
// 2, 1 and 0 without (1058-1061 on 7).
func exactDaysK(p *problem, threads, i int) int {
	k := p.D * daysShare / 100
	if i != threads-1 || p.fair || k < 1 || p.E*k > exactCells || p.E+len(p.cellReq) > maxMasterRows {
		return 0
	}
	return k
}

// randomDays marks k random days of the horizon.
func (w *worker) randomDays(k int) []bool {
	free := make([]bool, w.p.D)
	for _, d := range w.rng.Perm(w.p.D)[:k] {
		free[d] = true
	}
	return free
}

// daysDescent applies exact-days moves to the current roster until
// daysFails in a row gain nothing. The local search between descents
// moves the roster on, so the next descent starts elsewhere.
//
// On 20 × 28 (instance 7, optimum 1056) the rosters the local search and
// the dives end on (1057-1060) are local optima for these moves too, but
// other starts descend to the optimum within a few seconds: at 10 s 1056
// in 2 of 24 runs against none of 12 without them, and 1056-1060 (mean
// 1058.0) against 1057-1061 (1058.7). On 16 and 18 × 28 (instances 5, 6)
// they made no difference that 15 and 9 seeds could show.
func (w *worker) daysDescent(stop *atomic.Bool) {
	defer w.weekendDescent(stop)
	for fails := 0; fails < daysFails && !stop.Load(); {
		w.adoptBest()
		if w.exactDaysMove(stop, w.randomDays(w.daysK)) {
			fails = 0
		} else {
			fails++
		}
	}
}

// exactDaysMove re-plans every employee over the days free marks, the
// other days fixed, by a complete branch and price, and keeps the best
// roster it finds. Its LP's constant is the fixed days' cover cost, so its
// bounds hold for whole rosters and branches that cannot beat the current
// roster are dropped: a move that finishes within daysWork (and
// maxOpenNodes) either improves the roster or proves that no roster
// differing from it only on those days does. Scattered days, unlike a
// window, let employees trade weekends and runs far apart.
func (w *worker) exactDaysMove(stop *atomic.Bool, free []bool) bool {
	p := w.p
	if !slices.Contains(free, true) {
		return false
	}
	a, b := 0, p.D-1
	for !free[a] {
		a++
	}
	for !free[b] {
		b--
	}
	g := w.newColgenDays(w.z.work+daysWork, a, b, free)
	if g == nil {
		return false
	}
	g.boundWhole()
	g.exact, g.deepTies = true, true
	g.cutoff = w.s.total
	g.restricted = true // bounds of this sub-problem are not the root's
	if !g.optimize(stop, 0, rootGap) {
		return false
	}
	g.rootLP, g.lb = g.lp.objective(), g.nodeLB
	return w.completeSearch(stop, g, true)
}

// completeSearch dives from g's root (when fromRoot) and then from its open
// branches until none is left or the budget ends, continuing from every
// roster that beats the current one; it reports whether one did.
func (w *worker) completeSearch(stop *atomic.Bool, g *colgen, fromRoot bool) bool {
	p := w.p
	improved := false
	for first := fromRoot; first || len(g.open) > 0; first = false {
		rows, ok := g.dive(stop, nil)
		if !ok {
			break
		}
		if rows == nil {
			continue
		}
		x := append([]uint8(nil), w.s.x...)
		for e, row := range rows {
			copy(x[e*p.D:(e+1)*p.D], row)
		}
		if cand := newState(p, x); cand.total < w.s.total {
			w.s = cand
			g.cutoff = cand.total
			w.noteBest()
			improved = true
		}
	}
	return improved
}

// Weekend moves: see weekendMove.
const (
	// weekendFails moves in a row without gain end a weekend descent.
	weekendFails = 3
	// weekendWork is the DP work one weekend move may use (1-2 s here); on
	// 20 × 28 (instance 7) a move near the optimum finishes in 4-19 million.
	weekendWork = 20_000_000
)

// weekendDescent applies weekend moves to the current roster until
// weekendFails in a row gain nothing; only where weekends are limited.
func (w *worker) weekendDescent(stop *atomic.Bool) {
	if !w.p.weekendLimited() || len(w.p.weekendDays) == 0 {
		return
	}
	for fails := 0; fails < weekendFails && !stop.Load(); {
		w.adoptBest()
		if w.weekendMove(stop, w.weekendEmployees()) {
			fails = 0
		} else {
			fails++
		}
	}
}

// weekendEmployees marks the employees a weekend move frees: those whose
// weekends the root LP leaves fractional, and random others up to half the
// staff and at least two more, so that moves on the same roster differ.
func (w *worker) weekendEmployees() []bool {
	p := w.p
	free := make([]bool, p.E)
	n := 0
	frac, _ := w.sh.rootResult()
	for _, e := range frac {
		free[e] = true
		n++
	}
	k := min(p.E, max(n+2, p.E/2))
	for _, e := range w.rng.Perm(p.E) {
		if n >= k {
			break
		}
		if !free[e] {
			free[e] = true
			n++
		}
	}
	return free
}

// weekendMove re-plans the whole roster with only one thing kept: which
// weekend days each employee not in free works (the shifts, the weekdays
// and the free employees' weekends all change), by a complete branch and
// price that branches first on who works which weekend day, the most
// fractional first, and keeps the best roster it finds. A move that
// finishes within weekendWork (and maxOpenNodes) either improves the roster
// or proves that no roster keeping those weekend days does.
//
// Where weekends are limited they decide a roster's basin: on 20 × 28
// (instance 7, optimum 1056) the LP with every employee's weekend days
// fixed as in a roster is within 0.01 of that roster's penalty for rosters
// of 1056-1058 found by the search, yet the 1057 rosters differ from the
// optimum in the weekends of 7-8 employees, and no exact-days move (up to
// 25 of the 28 days freed) leaves them. The root LP, by contrast, decides
// the weekends of half the staff and leaves the other half fractional:
// freeing those, from a 1057 roster a move finds 1056 in 1.5-3.3 s.
func (w *worker) weekendMove(stop *atomic.Bool, free []bool) bool {
	p := w.p
	g := w.newColgen(w.z.work + weekendWork)
	if g == nil {
		return false
	}
	var base []decision
	for e := 0; e < p.E; e++ {
		if free[e] {
			continue
		}
		for d := 0; d < p.D; d++ {
			if p.weekendOf[d] >= 0 {
				base = append(base, decision{e: int32(e), d: int32(d), v: 0, exclude: w.s.x[e*p.D+d] != 0})
			}
		}
	}
	g.apply(base)
	g.exact, g.deepTies, g.weekendFirst = true, true, true
	g.cutoff = w.s.total
	if !g.optimize(stop, 0, rootGap) {
		return false
	}
	g.rootLP, g.lb = g.lp.objective(), g.nodeLB
	if g.cannotBeat(g.nodeLB) {
		return false
	}
	// Every branch keeps the fixed weekend days: the move's root is a node.
	g.open = append(g.open, bbNode{decisions: base, bound: g.nodeLB})
	return w.completeSearch(stop, g, false)
}

// adoptBest continues from the best roster any worker has found when it
// beats this worker's. Descents take it before every move: their moves
// improve whatever roster they start from, and the other worker's dives
// usually hold a better one (on instance 7, 1063 at 1.3 s while a descent
// of its own from the first dive's 1200 took 3-7 s to reach 1060; with
// this the optimum came at 10 s in 9 of 10 seeds against 5 of 10).
func (w *worker) adoptBest() {
	if x, total := w.sh.snapshot(w.syncBuf); total < w.s.total {
		w.syncBuf = x
		w.s = newState(w.p, x)
	}
}

// rootSolved reports whether descents may start: where weekends are
// limited, once the root LP is done (weekendEmployees needs it); worker 0
// dives from it at once, so descents then start from better than the
// construction.
func (w *worker) rootSolved() bool {
	_, done := w.sh.rootResult()
	return done || !w.p.weekendLimited()
}
