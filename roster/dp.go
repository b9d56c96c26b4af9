package roster

import (
	"math"
	"sync/atomic"
)

// infCost marks a value that may not be chosen.
const infCost int64 = math.MaxInt64 / 4

// maxDPStates bounds the dense state index of one DP call of the local
// search; pricingDPStates that of column generation's pricing, where a row
// that cannot be priced leaves the LP without a bound at all (instance 15
// needs 2.1M states once its weekends are tracked).
const (
	maxDPStates     = 1 << 21
	pricingDPStates = 1 << 23
)

// dp re-optimises a window of one employee's row exactly against given
// costs per day and value (the caller folds in cover marginals and static
// costs), with every row rule of the employee in the state: rotation via
// the last shift's class, run lengths, minutes, weekly minutes, weekends and
// the per-type limits that can bind inside the window. In strict mode hard
// rules prune; in relaxed mode they cost hardWeight per unit as in the
// evaluator, so a roster with the fewest hard violations is found.
type dp struct {
	p *problem

	cur, next []dpLabel
	hist      []dpHist
	lu        []int32
	pos       []int32
	touched   []int32
	opts      []dpOpt
	optStart  []int

	weOpen, weSame, weekEnd []bool
	weekBase, maxRemain     []int32
	// reach[j*S+shape]: the most minute units days j.. can add after a
	// run of that shape under the hard run rules (reachTable); reachOff
	// turns it off (tests compare against the per-day bound, maxRemain).
	reach    []int32
	reachOff bool
	// solveWithin's per-type counts of the window's current and new days
	winRow, winOut     []int32
	slotOf             []int8
	slotCap, slotRadix []int32
	trackType          []bool
	trackWeekends      bool
	// scale multiplies the rule weights, for callers whose costs are
	// scaled (column generation prices with fractional duals).
	scale int64
	// work counts labels expanded: a deterministic measure of effort.
	work int64
	// priced makes weekend and per-type limits prices instead of states:
	// weekends cost weekendPrice each, the caller prices types in costs.
	priced       bool
	weekendPrice int64
	// maxStates, when positive, replaces maxDPStates.
	maxStates int64
	// stop, when set, aborts a call early (the search is being cancelled).
	stop *atomic.Bool
}

// dpLabel is a live state of the current or next day; hist records how
// each label was reached, for backtracking.
type dpLabel struct {
	cost  int64
	hist  int32 // while the day is built: the parent's hist; then its own
	tIdx  int32
	m, wk int32
	core  int16
	we    int16
	v     uint8 // the value that reached it (while the day is built)
}

type dpHist struct {
	parent int32
	v      uint8
}

// limitWeight prices missing a replacement limit by a started hour: far
// above any cover incentive, far below a hard violation. Going over a
// weekend or per-type share costs a day's worth more, since later windows
// cannot undo it.
const limitWeight = 10_000

const limitCountWeight = 24 * limitWeight

// maxDPLabels bounds the labels of one call (memory for backtracking).
const maxDPLabels = 1 << 23

type dpOpt struct {
	cost  int64
	v     uint8
	class int16
	lu    int32
	slot  int8
}

func newDP(p *problem) *dp {
	return &dp{p: p, slotOf: make([]int8, p.V)}
}

func (z *dp) stateLimit() int64 {
	if z.maxStates > 0 {
		return z.maxStates
	}
	return maxDPStates
}

// dpCall holds the per-call constants.
type dpCall struct {
	e, a, b, W int
	strict     bool
	// run rules
	maxCons, minCons, minOff int32 // noLimit-free: 0 = none for mins, maxCons 0 = none
	capW, capO               int32
	capReduced               bool // capW is below the run rules' limits: lengths are exact
	nWorkCore, nCore         int32
	// resources
	trackMin       bool
	base           int32 // minutes outside the window
	mCap, mNeed    int32 // strict bounds on window minute units (mNeed may be <= 0)
	M1             int32
	trackWeek      bool
	weekShared     bool // the window lies in one week: the minute counter serves both
	WK1            int32
	trackWE        bool
	priceWE        bool // weekends cost z.weekendPrice each instead of a state
	weCap, WE1     int32
	T              int32
	wRot, wMaxCons int64
	wMinCons       int64
	wMinOff        int64
	wWE, wType     int64
}

func (c *dpCall) workCore(class int16, n int32, edge bool) int16 {
	i := (int32(class)-1)*c.capW*2 + (n-1)*2
	if edge {
		i++
	}
	return int16(i)
}

func (c *dpCall) offCore(n int32, edge bool) int16 {
	i := c.nWorkCore + (n-1)*2
	if edge {
		i++
	}
	return int16(i)
}

// decodeCore returns (work, class, run length, edge); start is core -1.
func (c *dpCall) decodeCore(core int16) (bool, int16, int32, bool) {
	i := int32(core)
	edge := i%2 == 1
	if i < c.nWorkCore {
		return true, int16(i/(c.capW*2)) + 1, (i%(c.capW*2))/2 + 1, edge
	}
	i -= c.nWorkCore
	return false, 0, i/2 + 1, edge
}

// solve finds the best values for days a..b of employee e given
// cost[j*V+v] (infCost where forbidden) for window day j, writing them to
// out. It returns the DP objective and false when strict mode finds no row
// without hard violations or the window's state space is too large.
func (z *dp) solve(s *state, e, a, b int, cost []int64, strict bool, out []uint8) (int64, bool) {
	return z.solveWithin(s, e, a, b, cost, strict, nil, out)
}

// dpLimits replaces an employee's horizon limits in one DP call; the
// construction uses it to give a window of a long horizon its share. The
// replacement limits are targets priced at limitWeight per unit.
type dpLimits struct {
	minMin, maxMin int32
	maxWE          int32
	maxType        []int32 // [V]
}

// solveWithin is solve with optional replacement limits.
//
// Weekend and per-type limits enter the state lazily: the DP first ignores
// them, and only a limit the result exceeds is added to the state before
// solving again. Ignoring a cost that cannot be negative relaxes the
// problem, so a relaxed optimum that respects every ignored limit is
// optimal for the full problem.
func (z *dp) solveWithin(s *state, e, a, b int, cost []int64, strict bool, lim *dpLimits, out []uint8) (int64, bool) {
	p := z.p
	V := p.V
	z.trackType = grow(z.trackType, V)
	clear(z.trackType)
	z.trackWeekends = false
	row := s.x[e*p.D : (e+1)*p.D]
	for {
		obj, ok := z.solveTracked(s, e, a, b, cost, strict, lim, out)
		if !ok {
			return 0, false
		}
		more := false
		// Per-type limits (unless the caller prices them in the costs):
		// the row's counts come from the state, less its window days.
		if !z.priced {
			z.winRow = grow(z.winRow, V)
			z.winOut = grow(z.winOut, V)
			winRow, winOut := z.winRow[:V], z.winOut[:V]
			clear(winRow)
			clear(winOut)
			for j := range b - a + 1 {
				winRow[row[a+j]]++
				winOut[out[j]]++
			}
			for v := 1; v < V; v++ {
				if z.trackType[v] {
					continue
				}
				l := p.maxType[e*V+v]
				if lim != nil {
					l = lim.maxType[v]
				}
				if l == noLimit {
					continue
				}
				outside := s.typeCnt[e*V+v] - winRow[v]
				if winOut[v] > max(0, l-outside) {
					z.trackType[v] = true
					more = true
				}
			}
		}
		// Weekends.
		maxWE := p.maxWE[e]
		if lim != nil {
			maxWE = lim.maxWE
		}
		if !z.trackWeekends && maxWE != noLimit && !z.priced {
			var base, added int32
			for _, days := range p.weekendDays {
				outW, inW := false, false
				for _, d := range days {
					if int(d) < a || int(d) > b {
						outW = outW || row[d] != 0
					} else {
						inW = inW || out[int(d)-a] != 0
					}
				}
				if outW {
					base++
				} else if inW {
					added++
				}
			}
			if added > max(0, maxWE-base) {
				z.trackWeekends = true
				more = true
			}
		}
		if !more {
			return obj, true
		}
	}
}

// solveTracked runs the DP with the weekend and per-type limits that
// z.trackWeekends and z.trackType select.
func (z *dp) solveTracked(s *state, e, a, b int, cost []int64, strict bool, lim *dpLimits, out []uint8) (int64, bool) {
	p := z.p
	scale := max(z.scale, 1)
	hw := hardWeight * scale
	D, V := p.D, p.V
	row := s.x[e*D : (e+1)*D]
	c := dpCall{e: e, a: a, b: b, W: b - a + 1, strict: strict}
	W := c.W
	minMin, maxMin, maxWE := p.minMin[e], p.maxMin[e], p.maxWE[e]
	maxTypeOf := func(v int) int32 { return p.maxType[e*V+v] }
	wMinMin, wMaxMin := p.w[kMinMinutes]*scale, p.w[kMaxMinutes]*scale
	hardMinMin, hardMaxMin, hardWE := p.hard[kMinMinutes], p.hard[kMaxMinutes], p.hard[kMaxWeekends]
	if lim != nil {
		// Replacement limits are targets: priced, never pruning.
		minMin, maxMin, maxWE = lim.minMin, lim.maxMin, lim.maxWE
		maxTypeOf = func(v int) int32 { return lim.maxType[v] }
		wMinMin, wMaxMin = limitWeight*scale, limitWeight*scale
		hardMinMin, hardMaxMin, hardWE = false, false, false
	}
	minutesCost := func(m int32) int64 {
		var c int64
		if maxMin != noLimit && m > maxMin {
			c += startedHours(int(m-maxMin)) * wMaxMin
		}
		if minMin != noLimit && m < minMin {
			c += startedHours(int(minMin-m)) * wMinMin
		}
		return c
	}
	// Minutes are counted in units of the gcd of the lengths usable here.
	unit := int32(0)
	for j := 0; j < W; j++ {
		for v := 1; v < V; v++ {
			if cost[j*V+v] < infCost {
				unit = gcd(unit, p.length[v])
			}
		}
	}
	if unit == 0 {
		unit = 1
	}
	lu := z.lu[:0]
	for v := 0; v < V; v++ {
		lu = append(lu, p.length[v]/unit)
	}
	z.lu = lu

	// Run rules.
	if l := p.maxCons[e]; l != noLimit {
		c.maxCons = l
	}
	if l := p.minCons[e]; l != noLimit {
		c.minCons = l
	}
	if l := p.minOff[e]; l != noLimit {
		c.minOff = l
	}
	// Run lengths are kept up to the longest that matters, and never beyond
	// what the window can reach from the run it starts in.
	var n0 int32
	work0 := a > 0 && row[a-1] != 0
	for i := a - 1; i >= 0 && (row[i] != 0) == work0; i-- {
		n0++
	}
	c.capW = max(c.maxCons, c.minCons, 1)
	c.capO = max(c.minOff, 1)
	if work0 {
		c.capReduced = n0+int32(W) < c.capW
		c.capW = min(c.capW, n0+int32(W))
	} else {
		c.capReduced = int32(W) < c.capW
		c.capW = min(c.capW, int32(W))
		c.capO = min(c.capO, n0+int32(W))
	}
	c.nWorkCore = int32(p.nClass-1) * c.capW * 2
	c.nCore = c.nWorkCore + c.capO*2
	c.wRot, c.wMaxCons, c.wMinCons, c.wMinOff = p.w[kRotation]*scale, p.w[kMaxCons]*scale, p.w[kMinCons]*scale, p.w[kMinOff]*scale
	c.wWE, c.wType = p.w[kMaxWeekends]*scale, p.w[kMaxType]*scale
	if lim != nil {
		c.wWE, c.wType = limitCountWeight*scale, limitCountWeight*scale
	}

	// Per-day tables.
	z.weOpen = grow(z.weOpen, W)
	z.weSame = grow(z.weSame, W)
	z.weekEnd = grow(z.weekEnd, W)
	z.weekBase = grow(z.weekBase, W)
	z.maxRemain = grow(z.maxRemain, W+1)
	maxLU := int32(0)
	for v := 1; v < V; v++ {
		maxLU = max(maxLU, lu[v])
	}
	z.maxRemain[W] = 0
	for j := W - 1; j >= 0; j-- {
		best := int32(0)
		for v := 1; v < V; v++ {
			if cost[j*V+v] < infCost {
				best = max(best, lu[v])
			}
		}
		z.maxRemain[j] = z.maxRemain[j+1] + best
	}

	// Minutes over the horizon: the row's, less its window days.
	base := s.minutes[e]
	for d := a; d <= b; d++ {
		base -= p.length[row[d]]
	}
	c.base = base
	c.M1 = 1
	if minMin != noLimit || maxMin != noLimit {
		c.trackMin = true
		c.M1 = z.maxRemain[0] + 1
		c.mCap = z.maxRemain[0]
		if strict && hardMaxMin && maxMin != noLimit {
			room := maxMin - base
			if room < 0 {
				return 0, false
			}
			c.mCap = min(c.mCap, room/unit)
			c.M1 = c.mCap + 1
		}
		c.mNeed = math.MinInt32
		if strict && hardMinMin && minMin != noLimit {
			need := minMin - base
			c.mNeed = (need + unit - 1) / unit
			if need <= 0 {
				c.mNeed = 0
			}
			if c.mNeed > c.mCap {
				return 0, false
			}
		}
	}

	useReach := strict && c.trackMin && c.mNeed > 0 && !z.reachOff
	S := 2*c.capW + 2*c.capO
	var reach []int32
	if useReach {
		reach = z.reachTable(&c, cost, hw)
	}

	// Weekly minutes.
	c.WK1 = 1
	if p.minWeek[e] != noLimit || p.maxWeek[e] != noLimit {
		c.trackWeek = true
		c.weekShared = c.trackMin && p.weekOf[a] == p.weekOf[b]
		if !c.weekShared {
			c.WK1 = int32(min(W, 7))*maxLU + 1
		}
		for j := 0; j < W; j++ {
			d := a + j
			w := p.weekOf[d]
			z.weekEnd[j] = d == int(p.weekLast[w]) || d == b
			var wb int32
			for i := p.weekFirst[w]; i <= p.weekLast[w]; i++ {
				if int(i) < a || int(i) > b {
					wb += p.length[row[i]]
				}
			}
			z.weekBase[j] = wb
		}
	}

	// Weekends.
	c.WE1 = 1
	if maxWE != noLimit && (z.trackWeekends || z.weekendPrice > 0) {
		var baseWE, open int32
		for _, days := range p.weekendDays {
			inWin, outWorked := false, false
			for _, d := range days {
				if int(d) >= a && int(d) <= b {
					inWin = true
				} else if row[d] != 0 {
					outWorked = true
				}
			}
			if outWorked {
				baseWE++
			}
			if inWin && !outWorked {
				open++
			}
		}
		for j := 0; j < W; j++ {
			d := a + j
			k := p.weekendOf[d]
			z.weOpen[j] = false
			z.weSame[j] = j > 0 && k >= 0 && p.weekendOf[d-1] == k
			if k < 0 {
				continue
			}
			z.weOpen[j] = true
			for _, wd := range p.weekendDays[k] {
				if (int(wd) < a || int(wd) > b) && row[wd] != 0 {
					z.weOpen[j] = false
				}
			}
		}
		if z.trackWeekends {
			budget := maxWE - baseWE
			if budget < 0 && strict && hardWE {
				return 0, false
			}
			c.trackWE = open > 0
			c.weCap = max(0, min(budget, open))
			c.WE1 = c.weCap + 1
		} else {
			c.priceWE = open > 0
		}
	}

	// Per-type limits that can bind inside the window.
	z.slotCap = z.slotCap[:0]
	z.slotRadix = z.slotRadix[:0]
	c.T = 1
	for v := 1; v < V; v++ {
		z.slotOf[v] = -1
		l := maxTypeOf(v)
		if l == noLimit || !z.trackType[v] {
			continue
		}
		var outside, possible int32
		for d := 0; d < D; d++ {
			if d < a || d > b {
				if row[d] == uint8(v) {
					outside++
				}
			} else if cost[(d-a)*V+v] < infCost {
				possible++
			}
		}
		budget := l - outside
		if budget >= possible {
			continue
		}
		if budget < 0 && strict && p.hard[kMaxType] {
			budget = 0 // already over outside the window: no more of this type
		}
		z.slotOf[v] = int8(len(z.slotCap))
		z.slotCap = append(z.slotCap, max(budget, 0))
		z.slotRadix = append(z.slotRadix, c.T)
		c.T *= max(budget, 0) + 1
		if int64(c.T)*int64(c.nCore) > z.stateLimit() {
			return 0, false
		}
	}
	total := int64(c.nCore) * int64(c.M1) * int64(c.WK1) * int64(c.WE1) * int64(c.T)
	if total > z.stateLimit() {
		return 0, false
	}
	if cap(z.pos) < int(total) {
		z.pos = make([]int32, total)
		for i := range z.pos {
			z.pos[i] = -1
		}
	}
	pos := z.pos[:total]

	// Transition options per window day and previous rotation class: the
	// cheapest value for each (class, length, type slot).
	nC := p.nClass
	z.opts = z.opts[:0]
	z.optStart = grow(z.optStart, W*nC+1)
	classRep := make([]int, nC)
	for v := V - 1; v >= 1; v-- {
		classRep[p.rotClass[v]] = v
	}
	for j := 0; j < W; j++ {
		for pc := 0; pc < nC; pc++ {
			z.optStart[j*nC+pc] = len(z.opts)
			first := len(z.opts)
			if cst := cost[j*V]; cst < infCost {
				z.opts = append(z.opts, dpOpt{cost: cst, v: 0, slot: -1})
			}
			for v := 1; v < V; v++ {
				cst := cost[j*V+v]
				if cst >= infCost {
					continue
				}
				if pc > 0 && p.forbid[classRep[pc]*V+v] {
					if strict && p.hard[kRotation] {
						continue
					}
					cst += c.wRot
				}
				o := dpOpt{cost: cst, v: uint8(v), class: int16(p.rotClass[v]), lu: lu[v], slot: z.slotOf[v]}
				if !c.trackMin && !c.trackWeek {
					o.lu = 0
				}
				merged := false
				for k := first; k < len(z.opts); k++ {
					q := &z.opts[k]
					if q.v != 0 && q.class == o.class && q.lu == o.lu && q.slot == o.slot && o.slot < 0 {
						if o.cost < q.cost {
							*q = o
						}
						merged = true
						break
					}
				}
				if !merged {
					z.opts = append(z.opts, o)
				}
			}
		}
	}
	z.optStart[W*nC] = len(z.opts)

	// Initial label: the run that ends on day a-1, or the horizon start.
	startCore := int16(-1)
	if a > 0 {
		work, n := work0, n0
		edge := int(n0) == a
		if work {
			if n >= c.minCons {
				edge = false
			}
			startCore = c.workCore(int16(p.rotClass[row[a-1]]), min(n, c.capW), edge)
		} else {
			if n >= c.minOff {
				edge = false
			}
			startCore = c.offCore(min(n, c.capO), edge)
		}
	}
	z.hist = append(z.hist[:0], dpHist{parent: -1})
	z.cur = append(z.cur[:0], dpLabel{core: startCore, hist: 0})

	for j := 0; j < W; j++ {
		if z.stop != nil && z.stop.Load() {
			return 0, false
		}
		d := a + j
		z.next = z.next[:0]
		z.touched = z.touched[:0]
		for li := range z.cur {
			L := z.cur[li]
			var work bool
			var class int16
			var n int32
			var edge bool
			start := L.core < 0
			if !start {
				work, class, n, edge = c.decodeCore(L.core)
			}
			pc := 0
			if work {
				pc = int(class)
			}
			for oi := z.optStart[j*nC+pc]; oi < z.optStart[j*nC+pc+1]; oi++ {
				o := z.opts[oi]
				cst := L.cost + o.cost
				var ncore int16
				var nshape int32
				if o.v != 0 {
					var nl int32
					ne := false
					switch {
					case start:
						nl, ne = 1, true
					case work:
						nl, ne = n+1, edge
						if c.maxCons > 0 && nl > c.maxCons {
							if strict && c.wMaxCons >= hw {
								continue
							}
							cst += c.wMaxCons
						}
						nl = min(nl, c.capW)
					default:
						if !edge && n < c.minOff {
							pen := int64(c.minOff-n) * c.wMinOff
							if strict && pen >= hw {
								continue
							}
							cst += pen
						}
						nl = 1
					}
					if nl >= c.minCons {
						ne = false
					}
					ncore = c.workCore(o.class, nl, ne)
					nshape = (nl - 1) * 2
					if ne {
						nshape++
					}
				} else {
					var nl int32
					ne := false
					switch {
					case start:
						nl, ne = 1, true
					case work:
						if !edge && n < c.minCons {
							pen := int64(c.minCons-n) * c.wMinCons
							if strict && pen >= hw {
								continue
							}
							cst += pen
						}
						nl = 1
					default:
						nl, ne = min(n+1, c.capO), edge
					}
					if nl >= c.minOff {
						ne = false
					}
					ncore = c.offCore(nl, ne)
					nshape = 2*c.capW + (nl-1)*2
					if ne {
						nshape++
					}
				}
				nm := L.m
				if c.trackMin {
					nm += o.lu
					if strict && (int32(nm) > c.mCap || int32(nm)+z.maxRemain[j+1] < c.mNeed) {
						continue
					}
					if useReach && int32(nm)+reach[int32(j+1)*S+nshape] < c.mNeed {
						continue
					}
				}
				nwk := L.wk
				if c.trackWeek {
					wval := nm
					if !c.weekShared {
						nwk += o.lu
						wval = nwk
					}
					if z.weekEnd[j] {
						wc := p.weekCost(e, p.weekOf[d], z.weekBase[j]+wval*unit) * scale
						if strict && wc >= hw {
							continue
						}
						cst += wc
						nwk = 0
					} else if strict && p.hard[kMaxWeek] && p.maxWeek[e] != noLimit &&
						z.weekBase[j]+wval*unit > p.maxWeek[e] {
						continue
					}
				}
				nwe := L.we
				if c.priceWE && o.v != 0 && z.weOpen[j] && !(z.weSame[j] && work) {
					cst += z.weekendPrice
				}
				if c.trackWE && o.v != 0 && z.weOpen[j] && !(z.weSame[j] && work) {
					if int32(nwe) < c.weCap {
						nwe++
					} else {
						if strict && c.wWE >= hw {
							continue
						}
						cst += c.wWE
					}
				}
				nt := L.tIdx
				if o.slot >= 0 {
					r := z.slotRadix[o.slot]
					if (nt/r)%(z.slotCap[o.slot]+1) < z.slotCap[o.slot] {
						nt += r
					} else {
						if strict && c.wType >= hw {
							continue
						}
						cst += c.wType
					}
				}
				key := int32(ncore) + c.nCore*(int32(nm)+c.M1*(int32(nwk)+c.WK1*(int32(nwe)+c.WE1*nt)))
				if at := pos[key]; at >= 0 {
					if q := &z.next[at]; cst < q.cost {
						q.cost, q.hist, q.v = cst, L.hist, o.v
					}
					continue
				}
				pos[key] = int32(len(z.next))
				z.touched = append(z.touched, key)
				z.next = append(z.next, dpLabel{cost: cst, hist: L.hist, tIdx: nt, core: ncore, m: nm, wk: nwk, we: nwe, v: o.v})
			}
		}
		for _, k := range z.touched {
			pos[k] = -1
		}
		z.work += int64(len(z.cur))
		if len(z.next) == 0 || len(z.hist)+len(z.next) > maxDPLabels {
			return 0, false
		}
		// The day's labels are final: record how each was reached, in one
		// sequential pass rather than a random write per improvement.
		for i := range z.next {
			q := &z.next[i]
			z.hist = append(z.hist, dpHist{parent: q.hist, v: q.v})
			q.hist = int32(len(z.hist) - 1)
		}
		z.cur, z.next = z.next, z.cur
	}

	// Close: horizon minutes, the suffix's first run and rotation into it.
	var sufWork, sufTouchesEnd bool
	var sufLen int32
	if b < D-1 {
		sufWork = row[b+1] != 0
		i := b + 1
		for i < D && (row[i] != 0) == sufWork {
			sufLen++
			i++
		}
		sufTouchesEnd = i == D
	}
	best, bestCost := -1, infCost
	for li := range z.cur {
		L := z.cur[li]
		cst := L.cost
		if c.trackMin {
			mc := minutesCost(base + L.m*unit)
			if strict && mc >= hw {
				continue
			}
			cst += mc
		}
		if b < D-1 {
			work, class, n, edge := c.decodeCore(L.core)
			var closing int64
			if work && sufWork && p.forbid[classRep[class]*V+int(row[b+1])] {
				closing += c.wRot
			}
			if work == sufWork {
				if work {
					if c.maxCons > 0 {
						var over int32
						if n >= c.capW && !c.capReduced {
							over = sufLen // the run is already at or past the limit
						} else {
							over = max(0, n+sufLen-max(c.maxCons, n))
						}
						closing += int64(over) * c.wMaxCons
					}
					// A capped length is at least the minimum, so only exact ones fail.
					if !edge && !sufTouchesEnd && n+sufLen < c.minCons {
						closing += int64(c.minCons-n-sufLen) * c.wMinCons
					}
				} else if !edge && !sufTouchesEnd && n+sufLen < c.minOff {
					closing += int64(c.minOff-n-sufLen) * c.wMinOff
				}
			} else {
				// The window's last run ends on b; the suffix run starts on b+1.
				if work {
					if !edge && n < c.minCons {
						closing += int64(c.minCons-n) * c.wMinCons
					}
				} else if !edge && n < c.minOff {
					closing += int64(c.minOff-n) * c.wMinOff
				}
				if sufWork {
					if c.maxCons > 0 && sufLen > c.maxCons {
						closing += int64(sufLen-c.maxCons) * c.wMaxCons
					}
					if !sufTouchesEnd && sufLen < c.minCons {
						closing += int64(c.minCons-sufLen) * c.wMinCons
					}
				} else if !sufTouchesEnd && sufLen < c.minOff {
					closing += int64(c.minOff-sufLen) * c.wMinOff
				}
			}
			if strict && closing >= hw {
				continue
			}
			cst += closing
		}
		if cst < bestCost {
			best, bestCost = li, cst
		}
	}
	if best < 0 {
		return 0, false
	}
	for j, h := W-1, z.cur[best].hist; j >= 0; j-- {
		out[j] = z.hist[h].v
		h = z.hist[h].parent
	}
	return bestCost, true
}

// reachTable returns reach[j*S+shape], S = 2*capW + 2*capO: the most
// minute units days j..W-1 can add after a run of the given shape (work
// runs first, then days off; by length, then edge) without a transition
// that strict mode prunes. Rotation and the closing rules are left out,
// so it bounds from above, and a label with fewer units than the minimum
// minus its reach cannot be completed. It is far below the per-day bound
// (maxRemain) under maximum runs and minimum rests: instance 22 allows 5
// working days in a row and needs 2 off after them.
func (z *dp) reachTable(c *dpCall, cost []int64, hw int64) []int32 {
	W, V := c.W, z.p.V
	S := int(2*c.capW + 2*c.capO)
	const dead = -1 << 24
	z.reach = grow(z.reach, (W+1)*S)
	reach := z.reach[:(W+1)*S]
	for i := W * S; i < (W+1)*S; i++ {
		reach[i] = 0
	}
	for j := W - 1; j >= 0; j-- {
		gain := z.maxRemain[j] - z.maxRemain[j+1] // the longest value allowed on day j
		canWork := false
		for v := 1; v < V; v++ {
			canWork = canWork || cost[j*V+v] < infCost
		}
		canOff := cost[j*V] < infCost
		nxt := reach[(j+1)*S : (j+2)*S]
		for sh := 0; sh < S; sh++ {
			work := int32(sh) < 2*c.capW
			var n int32
			edge := sh%2 == 1
			if work {
				n = int32(sh)/2 + 1
			} else {
				n = (int32(sh)-2*c.capW)/2 + 1
			}
			best := int32(dead)
			if canWork {
				ok := true
				var nl int32
				ne := false
				if work {
					nl, ne = n+1, edge
					if c.maxCons > 0 && nl > c.maxCons && c.wMaxCons >= hw {
						ok = false
					}
					nl = min(nl, c.capW)
				} else {
					if !edge && n < c.minOff && int64(c.minOff-n)*c.wMinOff >= hw {
						ok = false
					}
					nl = 1
				}
				if nl >= c.minCons {
					ne = false
				}
				if ok {
					t := (nl - 1) * 2
					if ne {
						t++
					}
					if r := nxt[t]; r > dead {
						best = max(best, gain+r)
					}
				}
			}
			if canOff {
				ok := true
				var nl int32
				ne := false
				if work {
					if !edge && n < c.minCons && int64(c.minCons-n)*c.wMinCons >= hw {
						ok = false
					}
					nl = 1
				} else {
					nl, ne = min(n+1, c.capO), edge
				}
				if nl >= c.minOff {
					ne = false
				}
				if ok {
					t := 2*c.capW + (nl-1)*2
					if ne {
						t++
					}
					if r := nxt[t]; r > dead {
						best = max(best, r)
					}
				}
			}
			reach[j*S+sh] = best
		}
	}
	return reach
}

// windowStates estimates the dense state space of a DP over L days of e's
// row (before lazily added weekend and per-type limits).
func (z *dp) windowStates(e, L int) int64 {
	p := z.p
	D, V := p.D, p.V
	var unit, maxLU int32
	for v := 1; v < V; v++ {
		for d := 0; d < D; d++ {
			if p.allowed[(e*D+d)*V+v] {
				unit = gcd(unit, p.length[v])
				break
			}
		}
	}
	if unit == 0 {
		return 1
	}
	for v := 1; v < V; v++ {
		maxLU = max(maxLU, p.length[v]/unit)
	}
	capW := int64(max(p.maxCons[e], p.minCons[e], 1))
	capO := int64(max(p.minOff[e], 1))
	states := (int64(p.nClass-1)*min(capW, int64(L))*2 + min(capO, int64(L))*2)
	if p.minMin[e] != noLimit || p.maxMin[e] != noLimit {
		m := int64(L) * int64(maxLU)
		if l := p.maxMin[e]; l != noLimit {
			m = min(m, int64(l/unit))
		}
		states *= m + 1
	}
	if p.minWeek[e] != noLimit || p.maxWeek[e] != noLimit {
		states *= int64(7*maxLU) + 1
	}
	return states
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
