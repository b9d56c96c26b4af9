package roster

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync/atomic"
)

// Column generation stops when the LP value is within this of its
// Lagrangian bound: tightly at the root (the bound is reported), loosely
// while diving (only the choice of rows matters).
const (
	// rootRounds is the number of pricing rounds a root LP is assumed to
	// need: a root whose first round shows it cannot afford that many
	// gives up at once (instance 13's would take its whole budget and
	// fail; window LPs use the time better).
	rootRounds = 20
	rootGap    = 0.05
	// tailRounds and tailRatio define tailing off (see optimize).
	tailRounds = 20
	tailRatio  = 0.001
	diveGap    = 1.0
)

// dualScale turns fractional duals into the DP's integer costs.
const dualScale = 1000

// colgen is column generation over whole employee rows: the master LP
// (lp.go) chooses convex combinations of rows, and each employee's exact
// row DP prices new rows against the cover duals. Diving then forces
// assignments (employee, day, shift) until the LP picks one row per
// employee, which gives a roster the local search continues from; the LP
// also yields a lower bound on the penalty.
type colgen struct {
	w          *worker
	lp         *master
	forced     []int16 // per employee × day: the value a dive forces, -1 for none
	restricted bool    // some cell is forced: the LP's bound is not the root's
	lb         float64
	workLimit  int64           // stop pricing once the DP's work counter passes this
	seen       map[string]bool // colKey of every column in the LP

	forbid []uint64 // per employee × day: values a branch excludes (bit v)
	open   []bbNode // branches dives have not taken yet
	nodeLB float64  // the last optimize's bound on its (restricted) LP
	rootLP float64  // the root LP's value
	// diveWork caps one dive's DP work; a dive that needs more ends early
	// with its LP rounded, and truncated says so.
	diveWork  int64
	truncated bool
	random    *rand.Rand // when set, dives pick among the most decided at random
	// exact dives force one fractional cell per step and leave the cells
	// the LP decides free, so a dive and the branches it leaves open
	// cover every roster: a complete branch and price, affordable on small
	// problems (see exactCells).
	exact bool
	// weekendFirst branches on whether an employee works a weekend day
	// before any cell (weekendMove).
	weekendFirst bool
	// deepTies: among open branches with equal bounds take the deepest
	// (see openBefore).
	deepTies bool
	// boundedWindow: the window's bounds hold for whole rosters (see
	// boundWhole).
	boundedWindow bool
	// cutoff, when set, is the penalty branches must beat instead of the
	// best roster's: a move improves its worker's roster, whatever the
	// best one is.
	cutoff int64
	alpha  float64 // dual smoothing weight
	// The LP decides days a..b; every column keeps the current roster
	// outside them. A window shorter than the horizon (window is set) makes
	// the LP a large neighbourhood of the local search (windowLP): all
	// employees over a few days, the rest of the roster fixed.
	a, b    int
	window  bool
	free    []bool  // per day: decided by the LP; nil means all of a..b
	lpCell  []int32 // cover cell -> LP cover row, -1 outside the window
	rowBuf  []uint8
	pi      []float64
	piBest  []float64
	piBound float64
}

// maxMasterRows bounds the dense master LP.
const maxMasterRows = 700

func (w *worker) newColgen(workLimit int64) *colgen {
	return w.newColgenOver(workLimit, 0, w.p.D-1)
}

// newColgenOver is column generation over days a..b (see colgen.window);
// nil when the LP would be too large.
func (w *worker) newColgenOver(workLimit int64, a, b int) *colgen {
	return w.newColgenDays(workLimit, a, b, nil)
}

// newColgenDays is column generation over the days of a..b that free
// marks (all of them when free is nil): the other days keep every
// employee's current assignment, so their cover is fixed and left out of
// the master.
func (w *worker) newColgenDays(workLimit int64, a, b int, free []bool) *colgen {
	p := w.p
	if p.fair {
		return nil
	}
	lpCell := make([]int32, len(p.cellReq))
	var cells []int32
	if a == 0 && b == p.D-1 && free == nil {
		for c := range lpCell {
			lpCell[c] = int32(c)
			cells = append(cells, int32(c))
		}
	} else {
		for c := range lpCell {
			lpCell[c] = -1
		}
		for d := a; d <= b; d++ {
			if free != nil && !free[d] {
				continue
			}
			for _, c := range p.cellList[p.dsStart[d*p.V]:p.dsStart[(d+1)*p.V]] {
				lpCell[c] = int32(len(cells))
				cells = append(cells, c)
			}
		}
	}
	C := len(cells)
	if p.E+C > maxMasterRows {
		return nil
	}
	under := make([]float64, C)
	over := make([]float64, C)
	req := make([]float64, C)
	for i, c := range cells {
		under[i], over[i], req[i] = float64(p.cellUnder[c]), float64(p.cellOver[c]), float64(p.cellReq[c])
	}
	g := &colgen{w: w, forced: make([]int16, p.E*p.D), forbid: make([]uint64, p.E*p.D), lb: math.Inf(-1), workLimit: workLimit, seen: map[string]bool{},
		alpha: 0.7, piBound: math.Inf(-1), a: a, b: b, window: a > 0 || b < p.D-1 || free != nil, free: free, lpCell: lpCell}
	for i := range g.forced {
		g.forced[i] = -1
	}
	init := make([]lpCol, p.E)
	for e := 0; e < p.E; e++ {
		init[e] = g.columnOf(e, w.s.x[e*p.D:(e+1)*p.D])
		g.seen[colKey(e, init[e].row)] = true
	}
	g.lp = newMaster(p.E, under, over, req, init)
	return g
}

// boundWhole makes the window's bounds hold for whole rosters: the
// master's constant takes the cover cost of the cells it leaves out, whose
// days keep the current roster, and its branches can then be pruned.
func (g *colgen) boundWhole() {
	p, s := g.w.p, g.w.s
	for c := range p.cellReq {
		if g.lpCell[c] < 0 {
			g.lp.constant += float64(p.cellCost(int32(c), s.cnt[c]))
		}
	}
	g.boundedWindow = true
}

// fixedDay reports whether day d of the window keeps every employee's
// current value (a day left out of a day set, see newColgenDays).
func (g *colgen) fixedDay(d int) bool {
	return g.free != nil && !g.free[d]
}

// colKey identifies employee e's column with this row: employees with the
// same contract may well share a row, yet each needs its own column.
func colKey(e int, row []uint8) string {
	return strconv.Itoa(e) + ":" + string(row)
}

// columnOf describes row as a column of employee e.
func (g *colgen) columnOf(e int, row []uint8) lpCol {
	p := g.w.p
	col := lpCol{e: e, row: append([]uint8(nil), row...)}
	col.cost = float64(g.w.s.rowCostFull(e, row))
	for d := g.a; d <= g.b; d++ {
		v := row[d]
		if v == 0 || g.fixedDay(d) {
			continue
		}
		k := d*p.V + int(v)
		for _, c := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
			if p.counts(e, c) {
				col.cells = append(col.cells, g.lpCell[c])
			}
		}
	}
	return col
}

// price adds, for every unfixed employee, its best row under stabilised
// cover duals (Wentges smoothing: a convex combination of the duals with
// the best Lagrangian bound so far and the LP's current ones) when that row
// has a negative reduced cost against the current duals. It returns the
// number of columns added and the Lagrangian bound at the duals priced.
func (g *colgen) price(stop *atomic.Bool, alpha float64) (int, float64, bool) {
	w, p, lp := g.w, g.w.p, g.lp
	lp.duals()
	C := lp.C
	if len(g.piBest) != C {
		g.piBest = append([]float64(nil), lp.y[lp.E:]...)
	}
	pi := g.pi[:0]
	for c := 0; c < C; c++ {
		// A simplex stopped short of optimality can leave duals outside
		// [-over, under]; there the Lagrangian bound would not be valid.
		pi = append(pi, min(lp.under[c], max(-lp.over[c], alpha*g.piBest[c]+(1-alpha)*lp.y[lp.E+c])))
	}
	g.pi = pi
	bound := lp.constant
	for c := 0; c < C; c++ {
		bound += pi[c] * lp.req[c]
	}
	added := 0
	W := g.b - g.a + 1
	cost := w.cost[:W*p.V]
	out := w.out[:W]
	w.z.scale, w.z.maxStates = dualScale, pricingDPStates
	defer func() { w.z.scale, w.z.maxStates = 1, 0 }()
	for e := 0; e < p.E; e++ {
		if stop.Load() || w.z.work > g.workLimit {
			return added, math.Inf(-1), false
		}
		g.pricingCosts(e, pi, cost)
		obj, ok := w.z.solve(w.s, e, g.a, g.b, cost, true, out)
		if !ok {
			// Stopped, or the exact row's state space is too large: a
			// priced row (pricedSolve) was tried here and made the root
			// LP too slow to converge (instance 15), so give up instead.
			return added, math.Inf(-1), false
		}
		row := g.fullRow(e, out)
		var col lpCol
		if g.window {
			// The DP's objective leaves out what lies outside the window:
			// take the row's reduced cost at pi from its column instead.
			col = g.columnOf(e, row)
			// Its costs were rounded to 1/dualScale per day: the true
			// best row may be up to twice the rounding cheaper.
			bound += col.cost - float64(W)/dualScale
			for _, c := range col.cells {
				bound -= pi[c]
			}
		} else {
			// Duals are rounded to 1/dualScale per day in the DP's costs: take
			// the worst case off so the bound stays valid.
			bound += float64(obj)/dualScale - 0.5*float64(p.D)/dualScale
		}
		if g.seen[colKey(e, row)] {
			continue
		}
		if !g.window {
			col = g.columnOf(e, row)
		}
		rc := col.cost - lp.y[e]
		for _, c := range col.cells {
			rc -= lp.y[lp.E+int(c)]
		}
		if rc < -1e-6 {
			g.seen[colKey(e, col.row)] = true
			lp.addColumn(col)
			added++
		}
	}
	if bound > g.piBound {
		g.piBound = bound
		copy(g.piBest, pi)
	}
	return added, bound, true
}

// optimize alternates LP solves and pricing until no column improves or
// maxRounds pricing rounds are done (0: no limit). It reports false when
// stopped or out of budget.
func (g *colgen) optimize(stop *atomic.Bool, maxRounds int, gapTol float64) bool {
	bestBound := math.Inf(-1)
	defer func() { g.nodeLB = bestBound }()
	startWork := g.w.z.work
	var history []float64 // LP value per round, for the tailing-off test
	for round := 0; maxRounds <= 0 || round < maxRounds; round++ {
		if !g.lp.solve(50*g.lp.m, stop) {
			if stop.Load() {
				return false
			}
			g.lp.refactor()
		}
		lpObj := g.lp.objective()
		g.prune()
		before := g.w.z.work
		added, bound, ok := g.price(stop, g.alpha)
		if !ok {
			return false
		}
		// Column generation needs tens of rounds: give up early when one
		// round shows the budget cannot pay for them.
		if round == 0 && !g.restricted && g.w.z.work+rootRounds*(g.w.z.work-before) > g.workLimit {
			return false
		}
		if added == 0 && g.alpha > 0 {
			// Smoothing can mis-price: check with the LP's own duals.
			if added, bound, ok = g.price(stop, 0); !ok {
				return false
			}
		}
		bestBound = max(bestBound, bound)
		if !g.restricted {
			g.lb = max(g.lb, bound)
		}
		// Stop when no column prices out, or when the LP value is already
		// within gapTol of the bound (tailing off).
		if added == 0 || lpObj-bestBound < gapTol {
			break
		}
		// Tailing off: once this solve has used a quarter of the budget,
		// stop when tailRounds rounds improved the LP by under tailRatio.
		// The LP is then near its optimum; only the bound is weaker.
		history = append(history, lpObj)
		if n := len(history); n > tailRounds && 4*(g.w.z.work-startWork) > g.workLimit-startWork &&
			history[n-1-tailRounds]-lpObj < tailRatio*math.Abs(lpObj) {
			break
		}
	}
	g.lp.solve(50*g.lp.m, stop)
	if !g.restricted {
		g.rootLP = g.lp.objective()
	}
	return true
}

// maxColumnsPerRow bounds the columns kept per LP row before pruning.
const maxColumnsPerRow = 8

// prune drops the worst half of the non-basic columns once there are many:
// those with the highest reduced cost at the current duals. Pricing finds
// them again should they ever be needed.
func (g *colgen) prune() {
	lp := g.lp
	if len(lp.cols) <= maxColumnsPerRow*lp.m {
		return
	}
	lp.duals()
	var rcs []float64
	for j := range lp.cols {
		if lp.where[j] < 0 && !lp.banned[j] {
			rcs = append(rcs, lp.reducedCost(2*lp.C+j))
		}
	}
	if len(rcs) == 0 {
		return
	}
	sort.Float64s(rcs)
	cut := rcs[len(rcs)/2]
	for _, col := range lp.compact(func(j int) bool {
		// Banned columns come back when the dive is undone: keep them.
		return lp.banned[j] || lp.reducedCost(2*lp.C+j) < cut
	}) {
		delete(g.seen, colKey(col.e, col.row))
	}
}

// dive forces assignments (employee, day, shift) until the LP chooses one
// whole row per employee, and returns those rows; ok is false when stopped
// or out of budget, rows nil at a dead end or when the branch cannot beat
// the best roster. Each step forces every cell the LP already decides,
// plus the most decided fractional cell of a few employees, and re-solves;
// pricing respects the forced cells. Forcing cells disturbs the LP far
// less than fixing whole rows: an employee's fractional rows mostly agree.
//
// The dive is a branch and bound: each step leaves the other branch (the
// first fractional cell excluded) open with the step's LP bound, and the
// next dive starts from the open branch with the lowest bound, or from the
// root when none is left. Branches whose bound cannot beat the best
// roster are dropped.
func (g *colgen) dive(stop *atomic.Bool, best []uint8) ([][]uint8, bool) {
	p, lp := g.w.p, g.lp
	D, V := p.D, p.V
	val := make([]float64, p.E*D*V)
	heaviest := make([]int, p.E)
	weight := make([]float64, p.E)
	extraOf := make([]bool, p.E) // employees given a fractional cell this step
	type cand struct {
		cell int
		v    float64
	}
	var cands []cand
	var path []decision // the decisions of the current node
	bound := g.lb
	n, fromNode := g.takeOpen()
	if fromNode || g.restricted {
		g.unfixAll()
		// The best roster's rows are columns too: dives then find it or
		// something close and better.
		for e := 0; best != nil && e < p.E; e++ {
			row := best[e*D : (e+1)*D]
			if !g.seen[colKey(e, row)] {
				g.seen[colKey(e, row)] = true
				lp.addColumn(g.columnOf(e, row))
			}
		}
	}
	switch {
	case fromNode:
		g.apply(n.decisions)
		path, bound = n.decisions, n.bound
		for e := range heaviest {
			heaviest[e] = -1
		}
		if !g.coverEmployees(stop, heaviest) {
			return nil, !stop.Load()
		}
	case g.restricted || best != nil:
		// From the root again: pruning during the last dive may have
		// dropped root columns, so price the root LP back up.
		if !g.optimize(stop, 0, rootGap) {
			return nil, false
		}
	}
	target := g.rootLP
	g.truncated = false
	began := g.w.z.work
	priceNow := false
	for step := 0; ; step++ {
		if !lp.solve(50*lp.m, stop) {
			if stop.Load() {
				return nil, false
			}
			lp.refactor()
			lp.solve(50*lp.m, stop)
		}
		// Pricing only pays when the forcing made the LP worse: the other
		// rows must then adapt, and letting them adapt fully is what makes
		// the dive's roster good. Exact dives also price before taking an
		// integral LP as the branch's best roster.
		priced := false
		if lp.objective() > target+diveGap || priceNow {
			if !g.optimize(stop, 0, diveGap) {
				return nil, false
			}
			bound = max(bound, g.nodeLB)
			priced = true
		}
		priceNow = false
		if g.cannotBeat(bound) {
			return nil, true
		}
		clear(val)
		for e := range heaviest {
			heaviest[e], weight[e] = -1, -1
		}
		for j := range lp.cols {
			if lp.banned[j] {
				continue
			}
			x := lp.value(j)
			col := &lp.cols[j]
			if x > weight[col.e] {
				heaviest[col.e], weight[col.e] = j, x
			}
			if x <= 1e-9 {
				continue
			}
			for d, v := range col.row {
				val[(col.e*D+d)*V+int(v)] += x
			}
		}
		done := true
		for e := 0; e < p.E; e++ {
			done = done && weight[e] > 1-1e-6
		}
		if !done && g.diveWork > 0 && g.w.z.work-began > g.diveWork {
			// Too slow to finish: round what the LP has (an employee
			// without a column keeps the current row).
			g.truncated = true
			rows := make([][]uint8, p.E)
			for e, j := range heaviest {
				if j >= 0 {
					rows[e] = lp.cols[j].row
				}
			}
			return rows, true
		}
		if g.weekendFirst && !done {
			if dc, ok := g.weekendBranch(val); ok {
				g.apply([]decision{dc})
				other := append(append([]decision(nil), path...), decision{e: dc.e, d: dc.d, v: 0, exclude: !dc.exclude})
				g.open = append(g.open, bbNode{decisions: other, bound: bound})
				path = append(path[:len(path):len(path)], dc)
				if !g.coverEmployees(stop, heaviest) {
					return nil, !stop.Load()
				}
				continue
			}
		}
		// Force every cell the LP decides and the most decided few of the
		// others.
		cands = cands[:0]
		for cell, x := range val {
			if d := cell / V % D; d < g.a || d > g.b || g.fixedDay(d) {
				continue // outside the window every column agrees
			}
			if x > 1e-6 && g.forced[cell/V] < 0 {
				cands = append(cands, cand{cell, x})
			}
		}
		sort.Slice(cands, func(i, j int) bool {
			return cands[i].v > cands[j].v || cands[i].v == cands[j].v && cands[i].cell < cands[j].cell
		})
		frac := sort.Search(len(cands), func(i int) bool { return cands[i].v < 1-1e-6 })
		if done || frac == len(cands) {
			if g.exact && !priced {
				priceNow = true
				continue
			}
			// One column per employee, or every cell decided so that each
			// employee's columns in use agree (a weight may still miss 1
			// by rounding): a roster.
			rows := make([][]uint8, p.E)
			for e, j := range heaviest {
				rows[e] = lp.cols[j].row
			}
			return rows, true
		}
		if g.random != nil && len(g.open) == 0 && len(cands)-frac > 1 && g.random.IntN(2) == 0 {
			// Dives from the root vary: swap the first fractional choice with a runner-up.
			k := frac + 1 + g.random.IntN(min(3, len(cands)-frac-1))
			cands[frac], cands[k] = cands[k], cands[frac]
		}
		extra := max(1, p.E/8)
		if g.exact {
			extra = 1
		}
		forced := 0
		clear(extraOf)
		var decided, picked []decision
		for i, c := range cands {
			e, d := c.cell/V/D, c.cell/V%D
			if g.forced[e*D+d] >= 0 {
				continue // another value of this day was forced already
			}
			dc := decision{e: int32(e), d: int32(d), v: uint8(c.cell % V)}
			if i >= frac {
				if extra == 0 {
					break
				}
				if extraOf[e] {
					continue // one fractional cell per employee and step
				}
				extra--
				extraOf[e] = true
				picked = append(picked, dc)
			} else {
				if g.exact {
					continue // no branch would keep the rosters without it
				}
				decided = append(decided, dc)
			}
			g.force(e, d, dc.v)
			forced++
		}
		if forced == 0 {
			return nil, !stop.Load()
		}
		// The other branch: the first fractional choice excluded. The
		// cells the LP decides stay free there, so that branch's LP
		// decides them anew.
		if len(picked) > 0 && V <= 64 && (!g.window || g.boundedWindow) {
			other := append(append([]decision(nil), path...), decision{e: picked[0].e, d: picked[0].d, v: picked[0].v, exclude: true})
			g.open = append(g.open, bbNode{decisions: other, bound: bound})
			if len(g.open) > maxOpenNodes {
				worst := 0
				for i, n := range g.open {
					if n.bound > g.open[worst].bound {
						worst = i
					}
				}
				g.open[worst] = g.open[len(g.open)-1]
				g.open = g.open[:len(g.open)-1]
			}
		}
		path = append(append(path[:len(path):len(path)], decided...), picked...)
		// Every employee needs a column that agrees with its forced cells.
		if !g.coverEmployees(stop, heaviest) {
			// Forced cells from different rows that no row combines: this
			// dive ends without a roster.
			return nil, !stop.Load()
		}
	}
}

// rounded is the roster of each employee's heaviest LP column.
func (g *colgen) rounded() []uint8 {
	p, lp := g.w.p, g.lp
	x := append([]uint8(nil), g.w.s.x...)
	weight := make([]float64, p.E)
	for e := range weight {
		weight[e] = -1
	}
	for j := range lp.cols {
		if col := &lp.cols[j]; !lp.banned[j] && lp.value(j) > weight[col.e] {
			weight[col.e] = lp.value(j)
			copy(x[col.e*p.D:(col.e+1)*p.D], col.row)
		}
	}
	return x
}

// force restricts employee e to value v on day d: columns that disagree
// are banned and pricing keeps to it.
func (g *colgen) force(e, d int, v uint8) {
	lp := g.lp
	g.forced[e*g.w.p.D+d] = int16(v)
	g.restricted = true
	g.piBest, g.piBound = nil, math.Inf(-1) // the problem changed: restart smoothing
	for k := range lp.cols {
		if col := &lp.cols[k]; col.e == e && col.row[d] != v && !lp.banned[k] {
			lp.banned[k] = true
			lp.colCost[k] += bigM
		}
	}
}

// exclude bans value v from employee e's day d: the other branch of a
// dive's choice.
func (g *colgen) exclude(e, d int, v uint8) {
	lp := g.lp
	g.forbid[e*g.w.p.D+d] |= 1 << v
	g.restricted = true
	g.piBest, g.piBound = nil, math.Inf(-1)
	for k := range lp.cols {
		if col := &lp.cols[k]; col.e == e && col.row[d] == v && !lp.banned[k] {
			lp.banned[k] = true
			lp.colCost[k] += bigM
		}
	}
}

// decision is one branching decision: employee e works value v on day d,
// or (exclude) does not.
type decision struct {
	e, d    int32
	v       uint8
	exclude bool
}

// bbNode is a branch not yet explored: its decisions and a lower bound on
// every roster in it.
type bbNode struct {
	decisions []decision
	bound     float64
}

// maxOpenNodes bounds the branches kept; the worst bounds go first.
const maxOpenNodes = 4096

func (g *colgen) apply(ds []decision) {
	for _, dc := range ds {
		if dc.exclude {
			g.exclude(int(dc.e), int(dc.d), dc.v)
		} else {
			g.force(int(dc.e), int(dc.d), dc.v)
		}
	}
}

// takeOpen removes and returns the open branch with the lowest bound that
// could still beat the best roster; false when none is left.
func (g *colgen) takeOpen() (bbNode, bool) {
	for len(g.open) > 0 {
		best := 0
		for i, n := range g.open {
			if openBefore(n, g.open[best], g.deepTies) {
				best = i
			}
		}
		n := g.open[best]
		g.open[best] = g.open[len(g.open)-1]
		g.open = g.open[:len(g.open)-1]
		if !g.cannotBeat(n.bound) {
			return n, true
		}
	}
	return bbNode{}, false
}

// openBefore orders open branches: the lowest bound first and, with
// deepTies, the deepest among equal bounds. A branch inherits the bound of
// the dive step that left it, so many share the root's; the deepest of them
// lies next to the last dive's roster, and taking it searches there instead
// of restarting near the root. That pays when there is time for many dives
// (on 20 × 28, instance 7: 1057 in 8 of 9 runs at 10 s instead of
// 1059-1060). Where the root leaves time for only a few (instance 15's
// takes 37 of 60 s) the order is left as it was: it decides one or two
// dives there, and its effect could not be told from run-to-run noise.
func openBefore(a, b bbNode, deepTies bool) bool {
	if a.bound != b.bound || !deepTies {
		return a.bound < b.bound
	}
	return len(a.decisions) > len(b.decisions)
}

// cannotBeat reports that no roster with penalty at least bound beats the
// best one found (penalties are integers).
func (g *colgen) cannotBeat(bound float64) bool {
	if g.window && !g.boundedWindow {
		return false // a window's LP leaves out the cover outside it
	}
	best := g.w.sh.bestTotal.Load()
	if g.cutoff > 0 {
		best = g.cutoff
	}
	return best < hardWeight && float64(best) <= math.Ceil(bound-1e-6)
}

// coverEmployees gives every employee a column that agrees with its
// forced and excluded cells, preferring heaviest[e], and restarts the
// simplex from them; false at a dead end (no row fits).
func (g *colgen) coverEmployees(stop *atomic.Bool, heaviest []int) bool {
	p, lp := g.w.p, g.lp
	for e := 0; e < p.E; e++ {
		if j := heaviest[e]; j < 0 || lp.banned[j] {
			heaviest[e] = -1
			for k := range lp.cols {
				if lp.cols[k].e == e && !lp.banned[k] {
					heaviest[e] = k
					break
				}
			}
		}
		if heaviest[e] < 0 {
			row, ok := g.rowWithin(stop, e)
			if !ok {
				return false
			}
			g.seen[colKey(e, row)] = true
			heaviest[e] = lp.addColumn(g.columnOf(e, row))
		}
	}
	lp.rebase(heaviest)
	return true
}

// rowWithin is e's cheapest row that keeps e's forced cells; false when
// stopped or when no such row exists.
func (g *colgen) rowWithin(stop *atomic.Bool, e int) ([]uint8, bool) {
	w, p := g.w, g.w.p
	W := g.b - g.a + 1
	cost := w.cost[:W*p.V]
	g.pricingCosts(e, nil, cost)
	w.z.scale, w.z.maxStates = dualScale, pricingDPStates
	defer func() { w.z.scale, w.z.maxStates = 1, 0 }()
	out := w.out[:W]
	if _, ok := w.z.solve(w.s, e, g.a, g.b, cost, true, out); !ok && (stop.Load() || g.window || !w.pricedSolve(e, cost, out)) {
		return nil, false
	}
	return append([]uint8(nil), g.fullRow(e, out)...), true
}

// fullRow is e's current row with days a..b replaced by win (win itself
// when the LP spans the horizon); the result is only valid until the next
// call.
func (g *colgen) fullRow(e int, win []uint8) []uint8 {
	if !g.window {
		return win
	}
	p := g.w.p
	g.rowBuf = append(g.rowBuf[:0], g.w.s.x[e*p.D:(e+1)*p.D]...)
	copy(g.rowBuf[g.a:], win)
	return g.rowBuf
}

// pricingCosts fills e's DP costs (scaled by dualScale) under cover duals
// pi, keeping e's forced cells.
func (g *colgen) pricingCosts(e int, pi []float64, cost []int64) {
	p := g.w.p
	V := p.V
	for d := g.a; d <= g.b; d++ {
		base := (e*p.D + d) * V
		f := g.forced[e*p.D+d]
		fixed := g.fixedDay(d)
		if fixed {
			f = int16(g.w.s.x[e*p.D+d]) // a fixed day keeps its value
		}
		j := (d - g.a) * V
		for v := 0; v < V; v++ {
			if !p.allowed[base+v] || (f >= 0 && int(f) != v) || g.forbid[e*p.D+d]>>v&1 == 1 {
				cost[j+v] = infCost
				continue
			}
			c := float64(p.static[base+v])
			if v > 0 && pi != nil && !fixed {
				k := d*V + v
				for _, cell := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
					if p.counts(e, cell) {
						c -= pi[g.lpCell[cell]]
					}
				}
			}
			cost[j+v] = int64(math.Round(c * dualScale))
		}
	}
}

// unfixAll undoes a dive, keeping every column generated.
func (g *colgen) unfixAll() {
	g.piBest, g.piBound = nil, math.Inf(-1)
	lp := g.lp
	for j := range lp.cols {
		if lp.banned[j] {
			lp.banned[j] = false
			lp.colCost[j] = lp.cols[j].cost
		}
	}
	for i := range g.forced {
		g.forced[i] = -1
	}
	clear(g.forbid)
	g.restricted = false
}

// weekendBranch is the most fractional choice of whether an employee works
// a weekend day, as the decision toward its majority (see weekendMove).
func (g *colgen) weekendBranch(val []float64) (decision, bool) {
	p := g.w.p
	D, V := p.D, p.V
	best, bestDist := decision{}, 2.0
	for e := 0; e < p.E; e++ {
		for d := g.a; d <= g.b; d++ {
			if p.weekendOf[d] < 0 || g.fixedDay(d) || g.forced[e*D+d] >= 0 || g.forbid[e*D+d]&1 == 1 {
				continue
			}
			off := val[(e*D+d)*V]
			if off < 1e-6 || off > 1-1e-6 {
				continue
			}
			if dist := 0.5 - min(off, 1-off); dist < bestDist {
				bestDist = dist
				best = decision{e: int32(e), d: int32(d), v: 0, exclude: off < 0.5}
			}
		}
	}
	return best, bestDist < 2
}

// weekendFractional lists the employees with a weekend day the LP leaves
// fractional (worked with a share between 1% and 99%).
func (g *colgen) weekendFractional() []int {
	p, lp := g.w.p, g.lp
	off := make([]float64, p.E*p.D)
	for j := range lp.cols {
		if lp.banned[j] {
			continue
		}
		x, col := lp.value(j), &lp.cols[j]
		for d, v := range col.row {
			if v == 0 {
				off[col.e*p.D+d] += x
			}
		}
	}
	var out []int
	for e := 0; e < p.E; e++ {
		for d := 0; d < p.D; d++ {
			if f := off[e*p.D+d]; p.weekendOf[d] >= 0 && f > 0.01 && f < 0.99 {
				out = append(out, e)
				break
			}
		}
	}
	return out
}
