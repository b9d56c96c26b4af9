package roster

// state is a roster under search with everything needed to price a change
// incrementally: cover counts, per-employee aggregates and row costs. The
// objective is hardWeight per unit of hard violation plus the penalty.
type state struct {
	p         *problem
	x         []uint8 // [E*D]
	cnt       []int64 // [cells] employees counted per cover cell
	minutes   []int32 // [E]
	typeCnt   []int32 // [E*V]
	weekMin   []int32 // [E*weeks]
	weCnt     []int32 // [E] weekends worked
	nightCnt  []int32 // [E]
	rowCost   []int64 // [E]
	coverCost int64
	fairCost  int64
	total     int64

	seg   []uint8 // scratch: new values of a region
	tdiff []int32 // scratch: per-value count changes, all zero between calls
}

// rowChange sets days a..a+len(nv)-1 of employee e's row to nv.
type rowChange struct {
	e, a int
	nv   []uint8
}

func newState(p *problem, x []uint8) *state {
	s := &state{
		p:        p,
		x:        append([]uint8(nil), x...),
		cnt:      make([]int64, len(p.cellReq)),
		minutes:  make([]int32, p.E),
		typeCnt:  make([]int32, p.E*p.V),
		weekMin:  make([]int32, p.E*len(p.weekWhole)),
		weCnt:    make([]int32, p.E),
		nightCnt: make([]int32, p.E),
		rowCost:  make([]int64, p.E),
		seg:      make([]uint8, p.D),
		tdiff:    make([]int32, p.V),
	}
	s.recompute()
	return s
}

// recompute derives every aggregate and cost from s.x.
func (s *state) recompute() {
	p := s.p
	clear(s.cnt)
	clear(s.typeCnt)
	clear(s.weekMin)
	s.total = 0
	for e := 0; e < p.E; e++ {
		row := s.x[e*p.D : (e+1)*p.D]
		s.minutes[e], s.nightCnt[e], s.weCnt[e] = 0, 0, 0
		for d, v := range row {
			if v == 0 {
				continue
			}
			s.minutes[e] += p.length[v]
			s.typeCnt[e*p.V+int(v)]++
			s.weekMin[e*len(p.weekWhole)+int(p.weekOf[d])] += p.length[v]
			if p.night[v] {
				s.nightCnt[e]++
			}
			for _, c := range p.cellList[p.dsStart[d*p.V+int(v)]:p.dsStart[d*p.V+int(v)+1]] {
				if p.counts(e, c) {
					s.cnt[c]++
				}
			}
		}
		for _, days := range p.weekendDays {
			for _, d := range days {
				if row[d] != 0 {
					s.weCnt[e]++
					break
				}
			}
		}
		s.rowCost[e] = s.rowCostFull(e, row)
		s.total += s.rowCost[e]
	}
	s.coverCost = 0
	for c := range s.cnt {
		s.coverCost += p.cellCost(int32(c), s.cnt[c])
	}
	s.total += s.coverCost
	s.fairCost = s.fairnessCost(nil)
	s.total += s.fairCost
}

// rowCostFull prices one employee's row from scratch.
func (s *state) rowCostFull(e int, row []uint8) int64 {
	p := s.p
	D, V := p.D, p.V
	var c int64
	var minutes int32
	for d, v := range row {
		c += p.static[(e*D+d)*V+int(v)]
		minutes += p.length[v]
	}
	c += p.minutesCost(e, minutes)
	for v := 1; v < V; v++ {
		c += p.typeCost(e, v, s.countOf(row, uint8(v)))
	}
	for w := range p.weekWhole {
		var m int32
		for d := p.weekFirst[w]; d <= p.weekLast[w]; d++ {
			m += p.length[row[d]]
		}
		c += p.weekCost(e, int32(w), m)
	}
	var we int32
	for _, days := range p.weekendDays {
		for _, d := range days {
			if row[d] != 0 {
				we++
				break
			}
		}
	}
	c += p.weekendCost(e, we)
	for d := 0; d+1 < D; d++ {
		if p.forbid[int(row[d])*V+int(row[d+1])] {
			c += p.w[kRotation]
		}
	}
	c += s.runsCost(e, 0, row)
	return c
}

func (s *state) countOf(row []uint8, v uint8) int32 {
	var n int32
	for _, x := range row {
		if x == v {
			n++
		}
	}
	return n
}

// runsCost prices the maximal runs of seg, which holds days L.. of a row;
// both ends of seg must be run boundaries (or horizon edges).
func (s *state) runsCost(e, L int, seg []uint8) int64 {
	var c int64
	for i := 0; i < len(seg); {
		j := i
		work := seg[i] != 0
		for j+1 < len(seg) && (seg[j+1] != 0) == work {
			j++
		}
		c += s.p.runCost(e, work, L+i, L+j)
		i = j + 1
	}
	return c
}

// rowDelta is the change of employee e's row cost if days a.. took nv.
func (s *state) rowDelta(e, a int, nv []uint8) int64 {
	p := s.p
	D, V := p.D, p.V
	b := a + len(nv) - 1
	row := s.x[e*D : (e+1)*D]
	base := e * D * V
	var delta int64
	var dMin int32
	statusChanged := false
	changed := false
	for d := a; d <= b; d++ {
		o, n := row[d], nv[d-a]
		if o == n {
			continue
		}
		changed = true
		delta += p.static[base+d*V+int(n)] - p.static[base+d*V+int(o)]
		dMin += p.length[n] - p.length[o]
		s.tdiff[o]--
		s.tdiff[n]++
		if (o == 0) != (n == 0) {
			statusChanged = true
		}
	}
	if !changed {
		return 0
	}
	for v := 1; v < V; v++ {
		if t := s.tdiff[v]; t != 0 {
			n := s.typeCnt[e*V+v]
			delta += p.typeCost(e, v, n+t) - p.typeCost(e, v, n)
		}
	}
	clear(s.tdiff)
	if dMin != 0 {
		delta += p.minutesCost(e, s.minutes[e]+dMin) - p.minutesCost(e, s.minutes[e])
	}
	if p.minWeek[e] != noLimit || p.maxWeek[e] != noLimit {
		W := len(p.weekWhole)
		for w := p.weekOf[a]; w <= p.weekOf[b]; w++ {
			var dw int32
			for d := max(a, int(p.weekFirst[w])); d <= min(b, int(p.weekLast[w])); d++ {
				dw += p.length[nv[d-a]] - p.length[row[d]]
			}
			if dw != 0 {
				m := s.weekMin[e*W+int(w)]
				delta += p.weekCost(e, w, m+dw) - p.weekCost(e, w, m)
			}
		}
	}

	// Region of days whose runs and rotation pairs may change.
	L, R := max(a-1, 0), min(b+1, D-1)
	if statusChanged {
		if a > 0 {
			st := row[a-1] != 0
			for L > 0 && (row[L-1] != 0) == st {
				L--
			}
		} else {
			L = 0
		}
		if b < D-1 {
			st := row[b+1] != 0
			for R < D-1 && (row[R+1] != 0) == st {
				R++
			}
		} else {
			R = D - 1
		}
	}
	seg := s.seg[:R-L+1]
	copy(seg, row[L:R+1])
	copy(seg[a-L:], nv)
	old := row[L : R+1]

	if statusChanged {
		if p.maxWE[e] != noLimit {
			dWE := s.weekendDiff(old, seg, L, a, b)
			if dWE != 0 {
				delta += p.weekendCost(e, s.weCnt[e]+dWE) - p.weekendCost(e, s.weCnt[e])
			}
		}
		delta += s.runsCost(e, L, seg) - s.runsCost(e, L, old)
	}
	lo, hi := max(a-1, 0), min(b, D-2)
	for d := lo; d <= hi; d++ {
		i := d - L
		if p.forbid[int(seg[i])*V+int(seg[i+1])] {
			delta += p.w[kRotation]
		}
		if p.forbid[int(old[i])*V+int(old[i+1])] {
			delta -= p.w[kRotation]
		}
	}
	return delta
}

// weekendDiff counts weekends newly worked minus weekends no longer worked
// when old becomes seg (both hold days L..); only days a..b differ, and the
// region covers a-1..b+1 so whole weekends are visible.
func (s *state) weekendDiff(old, seg []uint8, L, a, b int) int32 {
	p := s.p
	var diff int32
	last := int32(-1)
	for d := a; d <= b; d++ {
		k := p.weekendOf[d]
		if k < 0 || k == last {
			continue
		}
		last = k
		ow, nw := false, false
		for _, wd := range p.weekendDays[k] {
			ow = ow || old[int(wd)-L] != 0
			nw = nw || seg[int(wd)-L] != 0
		}
		if ow && !nw {
			diff--
		} else if nw && !ow {
			diff++
		}
	}
	return diff
}

// coverDelta prices the cover change of a set of row changes.
func (s *state) coverDelta(chs []rowChange) int64 {
	var delta int64
	s.shiftCover(chs, &delta, false)
	s.shiftCover(chs, nil, true)
	return delta
}

// shiftCover moves cover counts from the old to the new values (or back
// when undo), summing the cost change into delta when it is not nil.
func (s *state) shiftCover(chs []rowChange, delta *int64, undo bool) {
	p := s.p
	D, V := p.D, p.V
	for _, ch := range chs {
		row := s.x[ch.e*D : (ch.e+1)*D]
		for i, n := range ch.nv {
			d := ch.a + i
			o := row[d]
			if o == n {
				continue
			}
			from, to := o, n
			if undo {
				from, to = n, o
			}
			if from != 0 {
				k := d*V + int(from)
				for _, c := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
					if p.counts(ch.e, c) {
						if delta != nil {
							*delta += p.cellCost(c, s.cnt[c]-1) - p.cellCost(c, s.cnt[c])
						}
						s.cnt[c]--
					}
				}
			}
			if to != 0 {
				k := d*V + int(to)
				for _, c := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
					if p.counts(ch.e, c) {
						if delta != nil {
							*delta += p.cellCost(c, s.cnt[c]+1) - p.cellCost(c, s.cnt[c])
						}
						s.cnt[c]++
					}
				}
			}
		}
	}
}

// moveDelta prices a set of changes to distinct rows.
func (s *state) moveDelta(chs []rowChange) int64 {
	var delta int64
	for _, ch := range chs {
		delta += s.rowDelta(ch.e, ch.a, ch.nv)
	}
	delta += s.coverDelta(chs)
	if s.p.fair {
		delta += s.fairDelta(chs)
	}
	return delta
}

// aggDiff is the change of an employee's minutes, weekends and nights.
func (s *state) aggDiff(ch rowChange) (dm, dwe, dn int32) {
	p := s.p
	row := s.x[ch.e*p.D : (ch.e+1)*p.D]
	b := ch.a + len(ch.nv) - 1
	last := int32(-1)
	for d := ch.a; d <= b; d++ {
		o, n := row[d], ch.nv[d-ch.a]
		dm += p.length[n] - p.length[o]
		if p.night[n] {
			dn++
		}
		if p.night[o] {
			dn--
		}
		if k := p.weekendOf[d]; k >= 0 && k != last {
			last = k
			ow, nw := false, false
			for _, wd := range p.weekendDays[k] {
				ov := row[wd]
				nvv := ov
				if int(wd) >= ch.a && int(wd) <= b {
					nvv = ch.nv[int(wd)-ch.a]
				}
				ow = ow || ov != 0
				nw = nw || nvv != 0
			}
			if ow && !nw {
				dwe--
			} else if nw && !ow {
				dwe++
			}
		}
	}
	return
}

// aggShift overrides one employee's aggregates in fairnessCost.
type aggShift struct {
	e           int
	dm, dwe, dn int32
}

func (s *state) fairDelta(chs []rowChange) int64 {
	shifts := make([]aggShift, len(chs))
	for i, ch := range chs {
		dm, dwe, dn := s.aggDiff(ch)
		shifts[i] = aggShift{ch.e, dm, dwe, dn}
	}
	return s.fairnessCost(shifts) - s.fairCost
}

// fairnessCost is the fairness term with some employees' aggregates
// shifted by the given differences.
func (s *state) fairnessCost(shifts []aggShift) int64 {
	p := s.p
	if !p.fair {
		return 0
	}
	var c int64
	for _, g := range p.groups {
		first := true
		var mLo, mHi, wLo, wHi, nLo, nHi int32
		for _, e32 := range g {
			e := int(e32)
			m, we, n := s.minutes[e], s.weCnt[e], s.nightCnt[e]
			for _, sh := range shifts {
				if sh.e == e {
					m, we, n = m+sh.dm, we+sh.dwe, n+sh.dn
				}
			}
			if first {
				mLo, mHi, wLo, wHi, nLo, nHi = m, m, we, we, n, n
				first = false
				continue
			}
			mLo, mHi = min(mLo, m), max(mHi, m)
			wLo, wHi = min(wLo, we), max(wHi, we)
			nLo, nHi = min(nLo, n), max(nHi, n)
		}
		c += p.fairMinW*int64(mHi-mLo)/60 + p.fairWeW*int64(wHi-wLo) + p.fairNW*int64(nHi-nLo)
	}
	return c
}

// apply commits changes to distinct rows and returns the objective change.
func (s *state) apply(chs []rowChange) int64 {
	p := s.p
	D, V := p.D, p.V
	W := len(p.weekWhole)
	before := s.total
	var coverD int64
	s.shiftCover(chs, &coverD, false)
	s.coverCost += coverD
	s.total += coverD
	for _, ch := range chs {
		rd := s.rowDelta(ch.e, ch.a, ch.nv)
		dm, dwe, dn := s.aggDiff(ch)
		row := s.x[ch.e*D : (ch.e+1)*D]
		for i, n := range ch.nv {
			d := ch.a + i
			o := row[d]
			if o == n {
				continue
			}
			s.typeCnt[ch.e*V+int(o)]--
			s.typeCnt[ch.e*V+int(n)]++
			s.weekMin[ch.e*W+int(p.weekOf[d])] += p.length[n] - p.length[o]
			row[d] = n
		}
		s.minutes[ch.e] += dm
		s.weCnt[ch.e] += dwe
		s.nightCnt[ch.e] += dn
		s.rowCost[ch.e] += rd
		s.total += rd
	}
	if p.fair {
		f := s.fairnessCost(nil)
		s.total += f - s.fairCost
		s.fairCost = f
	}
	return s.total - before
}

// marginal is the cover cost change of adding employee e to value v on day
// d, given everybody else's current assignments (e's own is discounted).
func (s *state) marginal(e, d int, v uint8) int64 {
	p := s.p
	k := d*p.V + int(v)
	own := s.x[e*p.D+d] == v
	var c int64
	for _, cell := range p.cellList[p.dsStart[k]:p.dsStart[k+1]] {
		if !p.counts(e, cell) {
			continue
		}
		n := s.cnt[cell]
		if own {
			n--
		}
		if n < p.cellReq[cell] {
			c -= p.cellUnder[cell]
		} else {
			c += p.cellOver[cell]
		}
	}
	return c
}
