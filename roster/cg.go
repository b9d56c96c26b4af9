package roster

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync/atomic"
)

// Column generation stops when the LP value is within this of its
// Lagrangian bound: tightly at the root (the bound is reported), loosely
// while diving (only the choice of rows matters).
const (
	rootGap = 0.05
	diveGap = 1.0
)

// dualScale turns fractional duals into the DP's integer costs.
const dualScale = 1000

// colgen is column generation over whole employee rows: the master LP
// (lp.go) chooses convex combinations of rows, and each employee's exact
// row DP prices new rows against the cover duals. Diving then fixes
// employees to their heaviest row until every employee has one, which gives
// a roster the local search continues from; the LP also yields a lower
// bound on the penalty.
type colgen struct {
	w         *worker
	lp        *master
	fixed     []bool
	lb        float64
	workLimit int64 // stop pricing once the DP's work counter passes this
	seen      map[string]bool

	random  *rand.Rand // when set, dives pick among the most decided at random
	alpha   float64    // dual smoothing weight
	pi      []float64
	piBest  []float64
	piBound float64
}

// maxMasterRows bounds the dense master LP.
const maxMasterRows = 700

func (w *worker) newColgen(workLimit int64) *colgen {
	p := w.p
	C := len(p.cellReq)
	if p.E+C > maxMasterRows || p.fair {
		return nil
	}
	under := make([]float64, C)
	over := make([]float64, C)
	req := make([]float64, C)
	for c := 0; c < C; c++ {
		under[c], over[c], req[c] = float64(p.cellUnder[c]), float64(p.cellOver[c]), float64(p.cellReq[c])
	}
	g := &colgen{w: w, fixed: make([]bool, p.E), lb: math.Inf(-1), workLimit: workLimit, seen: map[string]bool{},
		alpha: 0.7, piBound: math.Inf(-1)}
	init := make([]lpCol, p.E)
	for e := 0; e < p.E; e++ {
		init[e] = g.columnOf(e, w.s.x[e*p.D:(e+1)*p.D])
		g.seen[string(init[e].row)] = true
	}
	g.lp = newMaster(p.E, under, over, req, init)
	return g
}

// columnOf describes row as a column of employee e.
func (g *colgen) columnOf(e int, row []uint8) lpCol {
	p := g.w.p
	col := lpCol{e: e, row: append([]uint8(nil), row...)}
	col.cost = float64(g.w.s.rowCostFull(e, row))
	for d, v := range row {
		if v == 0 {
			continue
		}
		k := d*p.V + int(v)
		for _, c := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
			if p.counts(e, c) {
				col.cells = append(col.cells, c)
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
	bound := 0.0
	for c := 0; c < C; c++ {
		bound += pi[c] * lp.req[c]
	}
	added := 0
	V := p.V
	cost := w.cost[:p.D*V]
	out := w.out[:p.D]
	w.z.scale = dualScale
	defer func() { w.z.scale = 1 }()
	for e := 0; e < p.E; e++ {
		if g.fixed[e] {
			// A fixed employee's row is its only choice.
			for j, col := range lp.cols {
				if col.e == e && !lp.banned[j] {
					v := col.cost
					for _, c := range col.cells {
						v -= pi[c]
					}
					bound += v
					break
				}
			}
			continue
		}
		if stop.Load() || w.z.work > g.workLimit {
			return added, math.Inf(-1), false
		}
		for d := 0; d < p.D; d++ {
			base := (e*p.D + d) * V
			for v := 0; v < V; v++ {
				if !p.allowed[base+v] {
					cost[d*V+v] = infCost
					continue
				}
				c := float64(p.static[base+v])
				if v > 0 {
					k := d*V + v
					for _, cell := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
						if p.counts(e, cell) {
							c -= pi[cell]
						}
					}
				}
				cost[d*V+v] = int64(math.Round(c * dualScale))
			}
		}
		obj, ok := w.z.solve(w.s, e, 0, p.D-1, cost, true, out)
		if !ok {
			return added, math.Inf(-1), false
		}
		// Duals are rounded to 1/dualScale per day in the DP's costs: take
		// the worst case off so the bound stays valid.
		bound += float64(obj)/dualScale - 0.5*float64(p.D)/dualScale
		if g.seen[string(out)] {
			continue
		}
		col := g.columnOf(e, out)
		rc := col.cost - lp.y[e]
		for _, c := range col.cells {
			rc -= lp.y[lp.E+int(c)]
		}
		if rc < -1e-6 {
			g.seen[string(col.row)] = true
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
	for round := 0; maxRounds <= 0 || round < maxRounds; round++ {
		if !g.lp.solve(50*g.lp.m, stop) {
			if stop.Load() {
				return false
			}
			g.lp.refactor()
		}
		lpObj := g.lp.objective()
		before := g.w.z.work
		added, bound, ok := g.price(stop, g.alpha)
		if !ok {
			return false
		}
		// Column generation needs tens of rounds: give up early when one
		// round shows the budget cannot pay for them.
		if round == 0 && !g.anyFixed() && g.w.z.work+30*(g.w.z.work-before) > g.workLimit {
			return false
		}
		if added == 0 && g.alpha > 0 {
			// Smoothing can mis-price: check with the LP's own duals.
			if added, bound, ok = g.price(stop, 0); !ok {
				return false
			}
		}
		bestBound = max(bestBound, bound)
		if !g.anyFixed() {
			g.lb = max(g.lb, bound)
		}
		// Stop when no column prices out, or when the LP value is already
		// within gapTol of the bound (tailing off).
		if added == 0 || lpObj-bestBound < gapTol {
			break
		}
	}
	g.lp.solve(50*g.lp.m, stop)
	return true
}

func (g *colgen) anyFixed() bool {
	for _, f := range g.fixed {
		if f {
			return true
		}
	}
	return false
}

// dive fixes employees to their heaviest rows until all are fixed and
// returns the resulting rows (nil when stopped or out of budget). Each
// step fixes every near-integral employee, or else the most decided tenth
// of the rest, and lets a few pricing rounds adapt the LP.
func (g *colgen) dive(stop *atomic.Bool) [][]uint8 {
	p, lp := g.w.p, g.lp
	bestCol := make([]int, p.E)
	bestVal := make([]float64, p.E)
	order := make([]int, 0, p.E)
	for {
		if !g.optimize(stop, 0, diveGap) {
			return nil
		}
		for e := range bestCol {
			bestCol[e], bestVal[e] = -1, -1
		}
		for j := range lp.cols {
			if lp.banned[j] {
				continue
			}
			e := lp.cols[j].e
			if v := lp.value(j); v > bestVal[e] {
				bestCol[e], bestVal[e] = j, v
			}
		}
		order = order[:0]
		fixedNow := 0
		for e := 0; e < p.E; e++ {
			if g.fixed[e] {
				continue
			}
			if bestVal[e] > 0.99 {
				g.fix(e, bestCol[e])
				fixedNow++
			} else {
				order = append(order, e)
			}
		}
		if fixedNow == 0 && len(order) > 0 {
			sort.Slice(order, func(i, j int) bool { return bestVal[order[i]] > bestVal[order[j]] })
			if g.random != nil && len(order) > 1 && g.random.IntN(2) == 0 {
				k := 1 + g.random.IntN(min(3, len(order)-1))
				order[0], order[k] = order[k], order[0]
			}
			// Larger problems fix a few employees per step to keep dives short.
			for _, e := range order[:min(len(order), max(1, p.E/15))] {
				g.fix(e, bestCol[e])
			}
		}
		done := true
		for e := 0; e < p.E; e++ {
			done = done && g.fixed[e]
		}
		if done {
			rows := make([][]uint8, p.E)
			for j, col := range lp.cols {
				if !lp.banned[j] && g.fixed[col.e] {
					rows[col.e] = col.row
				}
			}
			return rows
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
	clear(g.fixed)
}

// fix keeps only column j for its employee.
func (g *colgen) fix(e, j int) {
	lp := g.lp
	g.fixed[e] = true
	g.piBest, g.piBound = nil, math.Inf(-1) // the problem changed: restart smoothing
	for k := range lp.cols {
		if lp.cols[k].e == e && k != j && !lp.banned[k] {
			lp.banned[k] = true
			lp.colCost[k] += bigM
		}
	}
}
