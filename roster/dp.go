package roster

import "math"

// infCost marks a value that may not be chosen.
const infCost int64 = math.MaxInt64 / 4

// maxDPStates bounds the dense state index of one DP call.
const maxDPStates = 1 << 21

// dp re-optimises a window of one employee's row exactly against given
// costs per day and value (the caller folds in cover marginals and static
// costs), with every row rule of the employee in the state: rotation via
// the last shift's class, run lengths, minutes, weekly minutes, weekends and
// the per-type limits that can bind inside the window. In strict mode hard
// rules prune; in relaxed mode they cost hardWeight per unit as in the
// evaluator, so a roster with the fewest hard violations is found.
type dp struct {
	p *problem

	labels   []dpLabel
	dayStart []int
	pos      []int32
	touched  []int32
	opts     []dpOpt
	optStart []int

	weOpen, weSame, weekEnd []bool
	weekBase, maxRemain     []int32
	slotOf                  []int8
	slotCap, slotRadix      []int32
}

type dpLabel struct {
	cost   int64
	parent int32
	tIdx   int32
	m, wk  int32
	core   int16
	we     int16
	v      uint8
}

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
	p := z.p
	D, V := p.D, p.V
	row := s.x[e*D : (e+1)*D]
	c := dpCall{e: e, a: a, b: b, W: b - a + 1, strict: strict}
	W := c.W

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
	c.wRot, c.wMaxCons, c.wMinCons, c.wMinOff = p.w[kRotation], p.w[kMaxCons], p.w[kMinCons], p.w[kMinOff]
	c.wWE, c.wType = p.w[kMaxWeekends], p.w[kMaxType]

	// Per-day tables.
	z.weOpen = grow(z.weOpen, W)
	z.weSame = grow(z.weSame, W)
	z.weekEnd = grow(z.weekEnd, W)
	z.weekBase = grow(z.weekBase, W)
	z.maxRemain = grow(z.maxRemain, W+1)
	maxLU := int32(0)
	for v := 1; v < V; v++ {
		maxLU = max(maxLU, p.lenUnit[v])
	}
	z.maxRemain[W] = 0
	for j := W - 1; j >= 0; j-- {
		best := int32(0)
		for v := 1; v < V; v++ {
			if cost[j*V+v] < infCost {
				best = max(best, p.lenUnit[v])
			}
		}
		z.maxRemain[j] = z.maxRemain[j+1] + best
	}

	// Minutes over the horizon.
	var base int32
	for d := 0; d < D; d++ {
		if d < a || d > b {
			base += p.length[row[d]]
		}
	}
	c.base = base
	c.M1 = 1
	if p.minMin[e] != noLimit || p.maxMin[e] != noLimit {
		c.trackMin = true
		c.M1 = z.maxRemain[0] + 1
		c.mCap = z.maxRemain[0]
		if strict && p.hard[kMaxMinutes] && p.maxMin[e] != noLimit {
			room := p.maxMin[e] - base
			if room < 0 {
				return 0, false
			}
			c.mCap = min(c.mCap, room/p.unit)
			c.M1 = c.mCap + 1
		}
		c.mNeed = math.MinInt32
		if strict && p.hard[kMinMinutes] && p.minMin[e] != noLimit {
			need := p.minMin[e] - base
			c.mNeed = (need + p.unit - 1) / p.unit
			if need <= 0 {
				c.mNeed = 0
			}
			if c.mNeed > c.mCap {
				return 0, false
			}
		}
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
	if p.maxWE[e] != noLimit {
		var baseWE, open int32
		for k, days := range p.weekendDays {
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
			_ = k
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
		budget := p.maxWE[e] - baseWE
		if budget < 0 && strict && p.hard[kMaxWeekends] {
			return 0, false
		}
		c.trackWE = open > 0
		c.weCap = max(0, min(budget, open))
		c.WE1 = c.weCap + 1
	}

	// Per-type limits that can bind inside the window.
	z.slotCap = z.slotCap[:0]
	z.slotRadix = z.slotRadix[:0]
	c.T = 1
	for v := 1; v < V; v++ {
		z.slotOf[v] = -1
		l := p.maxType[e*V+v]
		if l == noLimit {
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
		if int64(c.T)*int64(c.nCore) > maxDPStates {
			return 0, false
		}
	}
	total := int64(c.nCore) * int64(c.M1) * int64(c.WK1) * int64(c.WE1) * int64(c.T)
	if total > maxDPStates {
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
				o := dpOpt{cost: cst, v: uint8(v), class: int16(p.rotClass[v]), lu: p.lenUnit[v], slot: z.slotOf[v]}
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
	z.labels = z.labels[:0]
	z.dayStart = grow(z.dayStart, W+2)
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
	z.labels = append(z.labels, dpLabel{core: startCore, parent: -1})
	z.dayStart[0] = 0
	z.dayStart[1] = 1

	for j := 0; j < W; j++ {
		d := a + j
		prevStart, prevEnd := z.dayStart[j], z.dayStart[j+1]
		z.touched = z.touched[:0]
		for li := prevStart; li < prevEnd; li++ {
			L := z.labels[li]
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
				if o.v != 0 {
					var nl int32
					ne := false
					switch {
					case start:
						nl, ne = 1, true
					case work:
						nl, ne = n+1, edge
						if c.maxCons > 0 && nl > c.maxCons {
							if strict && c.wMaxCons >= hardWeight {
								continue
							}
							cst += c.wMaxCons
						}
						nl = min(nl, c.capW)
					default:
						if !edge && n < c.minOff {
							pen := int64(c.minOff-n) * c.wMinOff
							if strict && pen >= hardWeight {
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
				} else {
					var nl int32
					ne := false
					switch {
					case start:
						nl, ne = 1, true
					case work:
						if !edge && n < c.minCons {
							pen := int64(c.minCons-n) * c.wMinCons
							if strict && pen >= hardWeight {
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
				}
				nm := L.m
				if c.trackMin {
					nm += o.lu
					if strict && (int32(nm) > c.mCap || int32(nm)+z.maxRemain[j+1] < c.mNeed) {
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
						wc := p.weekCost(e, p.weekOf[d], z.weekBase[j]+wval*p.unit)
						if strict && wc >= hardWeight {
							continue
						}
						cst += wc
						nwk = 0
					} else if strict && p.hard[kMaxWeek] && p.maxWeek[e] != noLimit &&
						z.weekBase[j]+wval*p.unit > p.maxWeek[e] {
						continue
					}
				}
				nwe := L.we
				if c.trackWE && o.v != 0 && z.weOpen[j] && !(z.weSame[j] && work) {
					if int32(nwe) < c.weCap {
						nwe++
					} else {
						if strict && c.wWE >= hardWeight {
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
						if strict && c.wType >= hardWeight {
							continue
						}
						cst += c.wType
					}
				}
				key := int32(ncore) + c.nCore*(int32(nm)+c.M1*(int32(nwk)+c.WK1*(int32(nwe)+c.WE1*nt)))
				if at := pos[key]; at >= 0 {
					if cst < z.labels[at].cost {
						z.labels[at] = dpLabel{cost: cst, parent: int32(li), tIdx: nt, core: ncore, m: nm, wk: nwk, we: nwe, v: o.v}
					}
					continue
				}
				pos[key] = int32(len(z.labels))
				z.touched = append(z.touched, key)
				z.labels = append(z.labels, dpLabel{cost: cst, parent: int32(li), tIdx: nt, core: ncore, m: nm, wk: nwk, we: nwe, v: o.v})
			}
		}
		for _, k := range z.touched {
			pos[k] = -1
		}
		z.dayStart[j+2] = len(z.labels)
		if z.dayStart[j+2] == z.dayStart[j+1] {
			return 0, false
		}
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
	for li := z.dayStart[W]; li < z.dayStart[W+1]; li++ {
		L := z.labels[li]
		cst := L.cost
		if c.trackMin {
			mc := p.minutesCost(e, base+int32(L.m)*p.unit)
			if strict && mc >= hardWeight {
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
			if strict && closing >= hardWeight {
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
	for j, li := W-1, best; j >= 0; j-- {
		out[j] = z.labels[li].v
		li = int(z.labels[li].parent)
	}
	return bestCost, true
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
