package roster

import (
	"math"
	"sort"
)

// lpRepair re-optimises a window of days for a few employees together by
// column generation on a small master LP (one convexity row per employee,
// one row per cover cell of the window, everybody else fixed) followed by
// a dive: an LP-based large-neighbourhood move that coordinates the
// employees' rows, which rebuilding them one after another cannot. The
// result is kept when the annealing accepts it.
func (w *worker) lpRepair(emps []int, a, b int) {
	p := w.p
	V, D := p.V, p.D
	n := b - a + 1
	k := len(emps)

	// Local cover cells: those of the window's days, with the employees
	// outside the subproblem already counted.
	w.cellLocal = growFill(w.cellLocal, len(p.cellReq), -1)
	var cells []int32
	for d := a; d <= b; d++ {
		for v := 1; v < V; v++ {
			kk := d*V + v
			for _, c := range p.cellList[p.dsStart[kk]:p.dsStart[kk+1]] {
				if w.cellLocal[c] < 0 {
					w.cellLocal[c] = int32(len(cells))
					cells = append(cells, c)
				}
			}
		}
	}
	defer func() {
		for _, c := range cells {
			w.cellLocal[c] = -1
		}
	}()
	C := len(cells)
	under := make([]float64, C)
	over := make([]float64, C)
	req := make([]float64, C)
	for i, c := range cells {
		under[i], over[i] = float64(p.cellUnder[c]), float64(p.cellOver[c])
		req[i] = float64(p.cellReq[c] - w.s.cnt[c])
	}
	// Subproblem employees' current window contributions are added back.
	for _, e := range emps {
		for d := a; d <= b; d++ {
			if v := w.s.x[e*D+d]; v != 0 {
				kk := d*V + int(v)
				for _, c := range p.cellList[p.dsStart[kk]:p.dsStart[kk+1]] {
					if p.counts(e, c) {
						req[w.cellLocal[c]]++
					}
				}
			}
		}
	}

	// Column of local employee i for window values nv.
	colOf := func(i int, nv []uint8) lpCol {
		e := emps[i]
		row := w.rowBuf[:D]
		copy(row, w.s.x[e*D:(e+1)*D])
		copy(row[a:], nv)
		col := lpCol{e: i, row: append([]uint8(nil), nv...), cost: float64(w.s.rowCostFull(e, row))}
		for j, v := range nv {
			if v == 0 {
				continue
			}
			kk := (a+j)*V + int(v)
			for _, c := range p.cellList[p.dsStart[kk]:p.dsStart[kk+1]] {
				if p.counts(e, c) {
					col.cells = append(col.cells, w.cellLocal[c])
				}
			}
		}
		return col
	}
	seen := map[string]bool{}
	init := make([]lpCol, k)
	current := make([][]uint8, k)
	for i, e := range emps {
		current[i] = append([]uint8(nil), w.s.x[e*D+a:e*D+b+1]...)
		init[i] = colOf(i, current[i])
		seen[string(rune(i))+string(current[i])] = true
	}
	lp := newMaster(k, under, over, req, init)

	cost := w.cost[:n*V]
	out := w.out[:n]
	fixed := make([]bool, k)
	w.z.scale = dualScale
	price := func() int {
		lp.duals()
		added := 0
		for i, e := range emps {
			if fixed[i] {
				continue
			}
			for j := 0; j < n; j++ {
				d := a + j
				base := (e*D + d) * V
				for v := 0; v < V; v++ {
					if !p.allowed[base+v] {
						cost[j*V+v] = infCost
						continue
					}
					c := float64(p.static[base+v])
					if v > 0 {
						kk := d*V + v
						for _, cell := range p.cellList[p.dsStart[kk]:p.dsStart[kk+1]] {
							if p.counts(e, cell) {
								c -= lp.y[k+int(w.cellLocal[cell])]
							}
						}
					}
					cost[j*V+v] = int64(math.Round(c * dualScale))
				}
			}
			if _, ok := w.z.solve(w.s, e, a, b, cost, true, out); !ok {
				continue
			}
			if key := string(rune(i)) + string(out); !seen[key] {
				col := colOf(i, out)
				rc := col.cost - lp.y[i]
				for _, c := range col.cells {
					rc -= lp.y[k+int(c)]
				}
				if rc < -1e-6 {
					seen[key] = true
					lp.addColumn(col)
					added++
				}
			}
		}
		return added
	}
	optimize := func() {
		for round := 0; round < 50; round++ {
			if !lp.solve(50 * lp.m) {
				lp.refactor()
			}
			if price() == 0 {
				break
			}
		}
		lp.solve(50 * lp.m)
	}
	optimize()
	// Dive: fix the most decided employee until all are fixed.
	choice := make([]int, k)
	for done := 0; done < k; {
		bestCol := make([]int, k)
		bestVal := make([]float64, k)
		for i := range bestCol {
			bestCol[i], bestVal[i] = -1, -1
		}
		for j, col := range lp.cols {
			if lp.banned[j] || fixed[col.e] {
				continue
			}
			if v := lp.value(j); v > bestVal[col.e] {
				bestCol[col.e], bestVal[col.e] = j, v
			}
		}
		order := make([]int, 0, k)
		for i := 0; i < k; i++ {
			if !fixed[i] {
				order = append(order, i)
			}
		}
		sort.Slice(order, func(x, y int) bool { return bestVal[order[x]] > bestVal[order[y]] })
		for idx, i := range order {
			if idx > 0 && bestVal[i] < 0.99 {
				break
			}
			fixed[i] = true
			choice[i] = bestCol[i]
			done++
			for j := range lp.cols {
				if lp.cols[j].e == i && j != bestCol[i] && !lp.banned[j] {
					lp.banned[j] = true
					lp.colCost[j] += bigM
				}
			}
		}
		if done < k {
			optimize()
		}
	}
	w.z.scale = 1

	before := w.s.total
	chs := make([]rowChange, 0, k)
	for i, e := range emps {
		chs = append(chs, rowChange{e: e, a: a, nv: lp.cols[choice[i]].row})
	}
	for _, ch := range chs {
		w.s.apply([]rowChange{ch})
	}
	if w.accept(w.s.total - before) {
		return
	}
	for i, e := range emps {
		w.s.apply([]rowChange{{e: e, a: a, nv: current[i]}})
	}
}

func growFill(s []int32, n int, v int32) []int32 {
	if len(s) < n {
		s = make([]int32, n)
		for i := range s {
			s[i] = v
		}
	}
	return s
}
