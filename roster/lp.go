package roster

import (
	"math"
	"sync/atomic"
)

// master is the restricted master LP of column generation:
//
//	min  Σ_j cost_j λ_j + Σ_c (under_c u_c + over_c o_c)
//	s.t. Σ_{j of e} λ_j = 1                    for every employee e
//	     Σ_j a_cj λ_j + u_c − o_c = req_c      for every cover cell c
//	     λ, u, o ≥ 0
//
// A column j is one whole row of one employee; a_cj is 1 when that row
// counts toward cover cell c. It is solved by a revised primal simplex with
// a dense basis inverse, which suits the few hundred rows of the
// instances it is used on. Updating that inverse after a pivot is most of
// the simplex's work; rows go through axpy, SIMD where the CPU has it.
type master struct {
	E, C, m int
	cols    []lpCol
	colCost []float64 // current cost (raised for columns banned by diving)
	banned  []bool

	under, over, req []float64

	binv  []float64 // m*m, row-major
	basis []int     // variable per basis row
	where []int32   // basis row of each variable, -1 when non-basic
	xB    []float64
	y     []float64 // duals
	d     []float64 // scratch: B^-1 a_q
	rhs   []float64

	pivots    int
	priceFrom int       // where partial pricing resumes
	devex     []float64 // pricing reference weights per variable

	nzIdx []int32 // scratch: the pivot row's non-zeros
	nzVal []float64

	constant float64 // cost outside the variables: the cover of days a window LP leaves fixed
}

type lpCol struct {
	e     int
	cost  float64
	cells []int32
	row   []uint8
}

// Variable numbering: [0, C) are u, [C, 2C) are o, 2C+j is column j.
func (lp *master) nVars() int { return 2*lp.C + len(lp.cols) }

func (lp *master) varCost(k int) float64 {
	switch {
	case k < lp.C:
		return lp.under[k]
	case k < 2*lp.C:
		return lp.over[k-lp.C]
	}
	return lp.colCost[k-2*lp.C]
}

const bigM = 1e7

// newMaster builds the master with one initial column per employee.
func newMaster(E int, under, over, req []float64, initial []lpCol) *master {
	C := len(req)
	lp := &master{E: E, C: C, m: E + C, under: under, over: over, req: req}
	m := lp.m
	lp.binv = make([]float64, m*m)
	lp.basis = make([]int, m)
	lp.xB = make([]float64, m)
	lp.y = make([]float64, m)
	lp.d = make([]float64, m)
	lp.rhs = make([]float64, m)
	// A tiny deterministic perturbation of the right-hand side breaks the
	// massive degeneracy of cover rows, which otherwise stalls the simplex.
	for i := 0; i < m; i++ {
		lp.rhs[i] = 1
		if i >= E {
			lp.rhs[i] = req[i-E]
		}
		lp.rhs[i] += 1e-6 * float64((i*7919)%997+1) / 997
	}
	for _, col := range initial {
		lp.addColumn(col)
	}
	// Basis: the initial column of each employee, and u or o per cell.
	resid := append([]float64(nil), req...)
	for j, col := range lp.cols {
		lp.basis[col.e] = 2*C + j
		for _, c := range col.cells {
			resid[c]--
		}
	}
	for c := 0; c < C; c++ {
		if resid[c] >= 0 {
			lp.basis[E+c] = c
		} else {
			lp.basis[E+c] = C + c
		}
	}
	lp.refactor()
	return lp
}

// rebase restarts the simplex from a basis without banned columns: keep,
// per employee, pick's column (its fixed or heaviest one) and a slack per
// cover cell. Pivoting banned columns out under their big-M cost would take
// the simplex far longer than solving again from here.
func (lp *master) rebase(pick []int) {
	C := lp.C
	resid := append([]float64(nil), lp.req...)
	for e, j := range pick {
		lp.basis[e] = 2*C + j
		for _, c := range lp.cols[j].cells {
			resid[c]--
		}
	}
	for c := 0; c < C; c++ {
		if resid[c] >= 0 {
			lp.basis[lp.E+c] = c
		} else {
			lp.basis[lp.E+c] = C + c
		}
	}
	lp.refactor()
}

func (lp *master) addColumn(col lpCol) int {
	lp.cols = append(lp.cols, col)
	lp.colCost = append(lp.colCost, col.cost)
	lp.banned = append(lp.banned, false)
	lp.where = append(lp.where, -1)
	return len(lp.cols) - 1
}

// compact drops the columns keep rejects (never basic ones) and returns
// them. Columns the LP has long priced out only slow every pivot down: the
// pricing scan and the Devex update both visit every column.
func (lp *master) compact(keep func(j int) bool) []lpCol {
	var dropped []lpCol
	newIndex := make([]int, len(lp.cols))
	n := 0
	for j := range lp.cols {
		if lp.where[j] < 0 && !keep(j) {
			dropped = append(dropped, lp.cols[j])
			newIndex[j] = -1
			continue
		}
		newIndex[j] = n
		lp.cols[n], lp.colCost[n], lp.banned[n], lp.where[n] = lp.cols[j], lp.colCost[j], lp.banned[j], lp.where[j]
		if 2*lp.C+j < len(lp.devex) {
			lp.devex[2*lp.C+n] = lp.devex[2*lp.C+j]
		}
		n++
	}
	if len(dropped) == 0 {
		return nil
	}
	clear(lp.cols[n:])
	lp.cols, lp.colCost, lp.banned, lp.where = lp.cols[:n], lp.colCost[:n], lp.banned[:n], lp.where[:n]
	lp.devex = lp.devex[:min(len(lp.devex), 2*lp.C+n)]
	for r, k := range lp.basis {
		if k >= 2*lp.C {
			lp.basis[r] = 2*lp.C + newIndex[k-2*lp.C]
		}
	}
	return dropped
}

// column writes variable k's coefficients as (row, value) pairs into dst.
func (lp *master) column(k int, dst []lpEntry) []lpEntry {
	dst = dst[:0]
	switch {
	case k < lp.C:
		return append(dst, lpEntry{lp.E + k, 1})
	case k < 2*lp.C:
		return append(dst, lpEntry{lp.E + k - lp.C, -1})
	}
	col := &lp.cols[k-2*lp.C]
	dst = append(dst, lpEntry{col.e, 1})
	for _, c := range col.cells {
		dst = append(dst, lpEntry{lp.E + int(c), 1})
	}
	return dst
}

type lpEntry struct {
	row int
	val float64
}

// refactor recomputes the basis inverse by Gauss-Jordan elimination and
// the basic solution from it, removing accumulated rounding error.
func (lp *master) refactor() {
	m := lp.m
	B := make([]float64, m*m)
	var buf []lpEntry
	for r, k := range lp.basis {
		buf = lp.column(k, buf)
		for _, en := range buf {
			B[en.row*m+r] = en.val
		}
	}
	inv := lp.binv
	clear(inv)
	for i := 0; i < m; i++ {
		inv[i*m+i] = 1
	}
	for col := 0; col < m; col++ {
		piv := col
		for r := col + 1; r < m; r++ {
			if math.Abs(B[r*m+col]) > math.Abs(B[piv*m+col]) {
				piv = r
			}
		}
		if piv != col {
			for k := 0; k < m; k++ {
				B[col*m+k], B[piv*m+k] = B[piv*m+k], B[col*m+k]
				inv[col*m+k], inv[piv*m+k] = inv[piv*m+k], inv[col*m+k]
			}
		}
		pv := B[col*m+col]
		for k := 0; k < m; k++ {
			B[col*m+k] /= pv
			inv[col*m+k] /= pv
		}
		for r := 0; r < m; r++ {
			if r == col {
				continue
			}
			f := B[r*m+col]
			if f == 0 {
				continue
			}
			for k := 0; k < m; k++ {
				B[r*m+k] -= f * B[col*m+k]
				inv[r*m+k] -= f * inv[col*m+k]
			}
		}
	}
	for i := range lp.where {
		lp.where[i] = -1
	}
	for r, k := range lp.basis {
		if k >= 2*lp.C {
			lp.where[k-2*lp.C] = int32(r)
		}
	}
	for i := 0; i < m; i++ {
		s := 0.0
		for k := 0; k < m; k++ {
			s += inv[i*m+k] * lp.rhs[k]
		}
		lp.xB[i] = max(s, 0)
	}
	lp.pivots = 0
}

// duals computes y = c_B B^-1.
func (lp *master) duals() {
	m := lp.m
	clear(lp.y)
	for r, k := range lp.basis {
		c := lp.varCost(k)
		if c == 0 {
			continue
		}
		row := lp.binv[r*m : (r+1)*m]
		for i, v := range row {
			lp.y[i] += c * v
		}
	}
}

// reducedCost of variable k under the current duals.
func (lp *master) reducedCost(k int) float64 {
	switch {
	case k < lp.C:
		return lp.under[k] - lp.y[lp.E+k]
	case k < 2*lp.C:
		return lp.over[k-lp.C] + lp.y[lp.E+k-lp.C]
	}
	j := k - 2*lp.C
	col := &lp.cols[j]
	rc := lp.colCost[j] - lp.y[col.e]
	for _, c := range col.cells {
		rc -= lp.y[lp.E+int(c)]
	}
	return rc
}

const lpTol = 1e-7

// devexReset is the pricing weight at which Devex weights start over.
const devexReset = 1e6

// solve runs the primal simplex to optimality over the present columns;
// false when it stopped on the pivot budget.
func (lp *master) solve(maxPivots int, stop *atomic.Bool) bool {
	isBasic := make([]bool, lp.nVars())
	for _, k := range lp.basis {
		isBasic[k] = true
	}
	var buf []lpEntry
	lp.duals()
	for it := 0; it < maxPivots; it++ {
		if it%32 == 31 && stop != nil && stop.Load() {
			return false
		}
		// Devex pricing over every non-basic variable.
		for len(lp.devex) < lp.nVars() {
			lp.devex = append(lp.devex, 1)
		}
		enter, best, score := -1, 0.0, -1.0
		for k := 0; k < lp.nVars(); k++ {
			if isBasic[k] || (k >= 2*lp.C && lp.banned[k-2*lp.C]) {
				continue
			}
			if rc := lp.reducedCost(k); rc < -lpTol*10 {
				// A weight grown to +Inf scores 0: such a variable may
				// still enter, or the simplex would stop short.
				if sc := rc * rc / lp.devex[k]; sc > score {
					enter, best, score = k, rc, sc
				}
			}
		}
		if enter < 0 {
			return true
		}
		// Direction d = B^-1 a_q.
		m := lp.m
		buf = lp.column(enter, buf)
		clear(lp.d)
		for _, en := range buf {
			for i := 0; i < m; i++ {
				lp.d[i] += lp.binv[i*m+en.row] * en.val
			}
		}
		// Harris ratio test: the largest pivot among near-minimal ratios.
		theta := math.Inf(1)
		for i := 0; i < m; i++ {
			if lp.d[i] > lpTol {
				theta = min(theta, (lp.xB[i]+1e-9)/lp.d[i])
			}
		}
		if math.IsInf(theta, 1) {
			// Unbounded cannot happen (all costs are non-negative); treat as done.
			return true
		}
		leave, bestPiv := -1, 0.0
		for i := 0; i < m; i++ {
			if lp.d[i] > lpTol && lp.xB[i]/lp.d[i] <= theta && lp.d[i] > bestPiv {
				leave, bestPiv = i, lp.d[i]
			}
		}
		// Devex weights: w_k = max(w_k, (alpha_rk/alpha_rq)^2 w_q).
		{
			prOld := lp.binv[leave*m : (leave+1)*m]
			aq := lp.d[leave]
			wq := lp.devex[enter]
			for k := 0; k < lp.nVars(); k++ {
				if isBasic[k] || k == enter || (k >= 2*lp.C && lp.banned[k-2*lp.C]) {
					continue
				}
				var alpha float64
				switch {
				case k < lp.C:
					alpha = prOld[lp.E+k]
				case k < 2*lp.C:
					alpha = -prOld[lp.E+k-lp.C]
				default:
					col := &lp.cols[k-2*lp.C]
					alpha = prOld[col.e]
					for _, c := range col.cells {
						alpha += prOld[lp.E+int(c)]
					}
				}
				if alpha != 0 {
					r := alpha / aq
					if nw := r * r * wq; nw > lp.devex[k] {
						lp.devex[k] = nw
					}
				}
			}
			old := lp.basis[leave]
			lp.devex[old] = max(wq/(aq*aq), 1)
			// Devex weights only grow; reset the reference framework
			// before they overflow and stop telling variables apart.
			if wq > devexReset {
				for k := range lp.devex {
					lp.devex[k] = 1
				}
			}
		}
		step := max(lp.xB[leave]/lp.d[leave], 0)
		for i := 0; i < m; i++ {
			lp.xB[i] = max(lp.xB[i]-step*lp.d[i], 0)
		}
		lp.xB[leave] = step
		// Update the inverse: row leave scaled, others eliminated.
		pr := lp.binv[leave*m : (leave+1)*m]
		inv := 1 / lp.d[leave]
		for k := range pr {
			pr[k] *= inv
		}
		// The pivot row is mostly zeros: eliminate over its non-zeros only.
		nzIdx, nzVal := lp.nzIdx[:0], lp.nzVal[:0]
		for k, v := range pr {
			if v != 0 {
				nzIdx = append(nzIdx, int32(k))
				nzVal = append(nzVal, v)
			}
		}
		lp.nzIdx, lp.nzVal = nzIdx, nzVal
		dense := 4*len(nzIdx) > m
		for i := 0; i < m; i++ {
			if i == leave || lp.d[i] == 0 {
				continue
			}
			f := lp.d[i]
			ri := lp.binv[i*m : (i+1)*m]
			if dense {
				axpy(-f, pr, ri)
				continue
			}
			for t, k := range nzIdx {
				ri[k] -= f * nzVal[t]
			}
		}
		// y' = y + rc_q * (row leave of the new inverse).
		for k, v := range pr {
			lp.y[k] += best * v
		}
		old := lp.basis[leave]
		isBasic[old] = false
		isBasic[enter] = true
		if old >= 2*lp.C {
			lp.where[old-2*lp.C] = -1
		}
		if enter >= 2*lp.C {
			lp.where[enter-2*lp.C] = int32(leave)
		}
		lp.basis[leave] = enter
		lp.pivots++
		if lp.pivots >= 4*m {
			lp.refactor()
			lp.duals()
		}
	}
	return false
}

// objective is the current LP value.
func (lp *master) objective() float64 {
	s := lp.constant
	for r, k := range lp.basis {
		s += lp.varCost(k) * lp.xB[r]
	}
	return s
}

// value returns λ_j.
func (lp *master) value(j int) float64 {
	if r := lp.where[j]; r >= 0 {
		return lp.xB[r]
	}
	return 0
}
