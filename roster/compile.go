package roster

import (
	"sort"
)

// hardWeight prices one unit of hard violation inside the search, so the
// search minimises hard violations first and the penalty second.
const hardWeight int64 = 1 << 40

// Rule kinds inside the compiled problem.
const (
	kRotation = iota
	kMaxType
	kMinMinutes
	kMaxMinutes
	kMinWeek
	kMaxWeek
	kMinCons
	kMaxCons
	kMinOff
	kMaxWeekends
	kFixedOff
	kPinned
	kSkills
	numKinds
)

var kindNames = [numKinds]string{
	RuleRotation, RuleMaxShiftsPerType, RuleMinMinutes, RuleMaxMinutes, RuleMinWeeklyMinutes,
	RuleMaxWeeklyMinutes, RuleMinConsecutiveWork, RuleMaxConsecutiveWork, RuleMinConsecutiveOff,
	RuleMaxWeekends, RuleFixedDaysOff, RulePinned, RuleSkills,
}

// hardUnits weighs one unit of each hard rule's violation against the
// others inside the search: a started hour of working time counts 1, a day,
// shift, weekend, pair or assignment counts like a shift's hours.
var hardUnits = [numKinds]int64{
	kRotation: 8, kMaxType: 8, kMinMinutes: 1, kMaxMinutes: 1, kMinWeek: 1, kMaxWeek: 1,
	kMinCons: 8, kMaxCons: 8, kMinOff: 8, kMaxWeekends: 8, kFixedOff: 8, kPinned: 8, kSkills: 8,
}

// noLimit marks an absent contract limit.
const noLimit = -1

// problem is a validated model compiled to flat arrays indexed by employee
// e, day d and value v (0 = off, 1..S = shift type v-1).
type problem struct {
	model    *Model
	E, D, S  int
	V        int
	dates    []string
	empIDs   []string
	shiftIDs []string

	length []int32 // [V] minutes, 0 for off
	forbid []bool  // [V*V] rotation: u followed by v on the next day
	night  []bool  // [V]

	hard [numKinds]bool
	w    [numKinds]int64 // per unit; hardWeight for hard rules

	// Contract limits per employee (noLimit when absent).
	minMin, maxMin   []int32
	minWeek, maxWeek []int32
	minCons, maxCons []int32
	minOff, maxWE    []int32
	maxType          []int32 // [E*V], index 0 unused

	static  []int64 // [E*D*V] per-cell costs (requests, changes, pins, fixed days off, skills)
	allowed []bool  // [E*D*V] false where a hard cell rule forbids the value

	weekendOf   []int32 // [D] weekend index or -1
	weekendDays [][]int32
	weekOf      []int32 // [D]
	weekWhole   []bool  // [weeks]
	weekFirst   []int32 // [weeks] first day in horizon
	weekLast    []int32

	// Cover cells; dsCells[d*V+v] .. dsCells[d*V+v+1] index cellList.
	cellReq, cellUnder, cellOver []int64
	cellSkill                    []int32 // -1 = any employee
	dsStart                      []int32 // [D*V+1]
	cellList                     []int32
	demand                       []int64 // [D] cover required on the day (cells with an under weight)
	empSkill                     []bool  // [E*K]
	K                            int

	// Fairness.
	fair                      bool
	fairMinW, fairWeW, fairNW int64
	groupOf                   []int32
	groups                    [][]int32

	// rotClass groups shift values with identical successor restrictions,
	// so the DP state needs the class, not the value.
	rotClass []int32 // [V], class 0 = off
	nClass   int
}

func gcd(a, b int32) int32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// compile turns a valid model into a problem. The caller validates first.
func compile(m *Model) *problem {
	start, D := m.Horizon()
	p := &problem{model: m, E: len(m.Employees), D: D, S: len(m.ShiftTypes)}
	p.V = p.S + 1
	E, V := p.E, p.V
	p.dates = m.Dates()
	dayOf := make(map[string]int, D)
	for i, d := range p.dates {
		dayOf[d] = i
	}
	shiftOf := map[string]int{}
	p.length = make([]int32, V)
	p.night = make([]bool, V)
	for i, st := range m.ShiftTypes {
		shiftOf[st.ID] = i + 1
		p.shiftIDs = append(p.shiftIDs, st.ID)
		p.length[i+1] = int32(st.LengthMinutes)
		p.night[i+1] = st.Night
	}
	p.forbid = make([]bool, V*V)
	for pair := range forbiddenPairs(m) {
		p.forbid[shiftOf[pair[0]]*V+shiftOf[pair[1]]] = true
	}
	// Rotation classes: identical forbidden rows share a class.
	p.rotClass = make([]int32, V)
	classOf := map[string]int32{}
	p.nClass = 1
	for v := 1; v < V; v++ {
		key := make([]byte, V)
		for t := 0; t < V; t++ {
			if p.forbid[v*V+t] {
				key[t] = 1
			}
		}
		c, ok := classOf[string(key)]
		if !ok {
			c = int32(p.nClass)
			p.nClass++
			classOf[string(key)] = c
		}
		p.rotClass[v] = c
	}

	for k := 0; k < numKinds; k++ {
		r := m.Rules.Get(kindNames[k])
		p.hard[k] = r.Hard
		if r.Hard {
			p.w[k] = hardWeight * hardUnits[k]
		} else {
			p.w[k] = int64(r.Weight)
		}
	}

	lim := func(ptr *int) int32 {
		if ptr == nil {
			return noLimit
		}
		return int32(*ptr)
	}
	p.minMin, p.maxMin = make([]int32, E), make([]int32, E)
	p.minWeek, p.maxWeek = make([]int32, E), make([]int32, E)
	p.minCons, p.maxCons = make([]int32, E), make([]int32, E)
	p.minOff, p.maxWE = make([]int32, E), make([]int32, E)
	p.maxType = make([]int32, E*V)
	empOf := map[string]int{}
	for e, emp := range m.Employees {
		empOf[emp.ID] = e
		p.empIDs = append(p.empIDs, emp.ID)
		c := emp.Contract
		p.minMin[e], p.maxMin[e] = lim(c.MinMinutes), lim(c.MaxMinutes)
		p.minWeek[e], p.maxWeek[e] = lim(c.MinWeeklyMinutes), lim(c.MaxWeeklyMinutes)
		p.minCons[e], p.maxCons[e] = lim(c.MinConsecutiveWork), lim(c.MaxConsecutiveWork)
		p.minOff[e], p.maxWE[e] = lim(c.MinConsecutiveOff), lim(c.MaxWeekends)
		for v := 0; v < V; v++ {
			p.maxType[e*V+v] = noLimit
		}
		for s, l := range c.MaxShifts {
			p.maxType[e*V+shiftOf[s]] = int32(l)
		}
	}

	// Calendar.
	p.weekendOf = make([]int32, D)
	for d := range p.weekendOf {
		p.weekendOf[d] = -1
	}
	for k, days := range weekendsOf(start, D) {
		ds := make([]int32, len(days))
		for i, d := range days {
			ds[i] = int32(d)
			p.weekendOf[d] = int32(k)
		}
		p.weekendDays = append(p.weekendDays, ds)
	}
	p.weekOf = make([]int32, D)
	for d := 0; d < D; {
		wd := (int(start.AddDate(0, 0, d).Weekday()) + 6) % 7
		end := min(d+7-wd, D)
		w := int32(len(p.weekWhole))
		for i := d; i < end; i++ {
			p.weekOf[i] = w
		}
		p.weekWhole = append(p.weekWhole, wd == 0 && end-d == 7)
		p.weekFirst = append(p.weekFirst, int32(d))
		p.weekLast = append(p.weekLast, int32(end-1))
		d = end
	}

	// Skills.
	skillOf := map[string]int{}
	for _, emp := range m.Employees {
		for _, s := range emp.Skills {
			if _, ok := skillOf[s]; !ok {
				skillOf[s] = len(skillOf)
			}
		}
	}
	for _, cv := range m.Cover {
		if _, ok := skillOf[cv.Skill]; cv.Skill != "" && !ok {
			skillOf[cv.Skill] = len(skillOf)
		}
	}
	p.K = len(skillOf)
	p.empSkill = make([]bool, E*max(p.K, 1))
	for e, emp := range m.Employees {
		for _, s := range emp.Skills {
			p.empSkill[e*p.K+skillOf[s]] = true
		}
	}

	// Static cell costs and domains.
	N := E * D * V
	p.static = make([]int64, N)
	p.allowed = make([]bool, N)
	for i := range p.allowed {
		p.allowed[i] = true
	}
	cell := func(e, d, v int) int { return (e*D+d)*V + v }
	addAllBut := func(e, d, keep int, w int64) {
		for v := 0; v < V; v++ {
			if v != keep {
				p.static[cell(e, d, v)] += w
			}
		}
	}
	for e, emp := range m.Employees {
		has := map[string]bool{}
		for _, s := range emp.Skills {
			has[s] = true
		}
		for v := 1; v < V; v++ {
			missing := 0
			for _, sk := range m.ShiftTypes[v-1].RequiredSkills {
				if !has[sk] {
					missing++
				}
			}
			if missing > 0 {
				for d := 0; d < D; d++ {
					p.static[cell(e, d, v)] += int64(missing) * p.w[kSkills]
					if p.hard[kSkills] {
						p.allowed[cell(e, d, v)] = false
					}
				}
			}
			if p.maxType[e*V+v] == 0 && p.hard[kMaxType] {
				for d := 0; d < D; d++ {
					p.allowed[cell(e, d, v)] = false
				}
			}
		}
		seen := map[int]bool{}
		for _, ds := range emp.FixedDaysOff {
			d := dayOf[ds]
			if seen[d] {
				continue
			}
			seen[d] = true
			addAllBut(e, d, 0, p.w[kFixedOff])
			if p.hard[kFixedOff] {
				for v := 1; v < V; v++ {
					p.allowed[cell(e, d, v)] = false
				}
			}
		}
	}
	for _, q := range m.Requests {
		e, d, s := empOf[q.Employee], dayOf[q.Date], shiftOf[q.Shift]
		w := int64(q.Weight)
		switch {
		case q.Kind == RequestOn && q.Shift != "":
			addAllBut(e, d, s, w)
		case q.Kind == RequestOn:
			p.static[cell(e, d, 0)] += w
		case q.Shift != "":
			p.static[cell(e, d, s)] += w
		default:
			addAllBut(e, d, 0, w)
		}
	}
	for _, pin := range m.Pinned {
		e, d, s := empOf[pin.Employee], dayOf[pin.Date], shiftOf[pin.Shift]
		addAllBut(e, d, s, p.w[kPinned])
		if p.hard[kPinned] {
			for v := 0; v < V; v++ {
				if v != s {
					p.allowed[cell(e, d, v)] = false
				}
			}
		}
	}
	// Conflicting hard cell rules (a pin to a shift needing a missing skill)
	// leave no value: then every value is allowed and priced.
	for i := 0; i < E*D; i++ {
		any := false
		for v := 0; v < V; v++ {
			any = any || p.allowed[i*V+v]
		}
		if !any {
			for v := 0; v < V; v++ {
				p.allowed[i*V+v] = true
			}
		}
	}
	if m.Previous != nil {
		for id, row := range m.Previous.Roster {
			e := empOf[id]
			for d, s := range row {
				addAllBut(e, d, shiftOf[s], int64(m.Previous.ChangeWeight))
			}
		}
	}

	// Cover cells grouped by (day, value).
	type cv struct {
		key   int
		index int
	}
	cells := make([]cv, len(m.Cover))
	for i, c := range m.Cover {
		cells[i] = cv{key: dayOf[c.Date]*V + shiftOf[c.Shift], index: i}
	}
	sort.Slice(cells, func(a, b int) bool {
		if cells[a].key != cells[b].key {
			return cells[a].key < cells[b].key
		}
		return cells[a].index < cells[b].index
	})
	p.dsStart = make([]int32, D*V+1)
	p.demand = make([]int64, D)
	for i, c := range cells {
		cover := m.Cover[c.index]
		if cover.UnderWeight > 0 {
			p.demand[c.key/V] += int64(cover.Requirement)
		}
		p.cellReq = append(p.cellReq, int64(cover.Requirement))
		p.cellUnder = append(p.cellUnder, int64(cover.UnderWeight))
		p.cellOver = append(p.cellOver, int64(cover.OverWeight))
		sk := int32(-1)
		if cover.Skill != "" {
			sk = int32(skillOf[cover.Skill])
		}
		p.cellSkill = append(p.cellSkill, sk)
		p.cellList = append(p.cellList, int32(i))
		p.dsStart[c.key+1]++
	}
	for i := 1; i <= D*V; i++ {
		p.dsStart[i] += p.dsStart[i-1]
	}

	// Fairness groups.
	if m.Fairness.active() {
		p.fair = true
		p.fairMinW = int64(m.Fairness.MinutesWeight)
		p.fairWeW = int64(m.Fairness.WeekendsWeight)
		p.fairNW = int64(m.Fairness.NightsWeight)
		p.groupOf = make([]int32, E)
		idx := map[string]int32{}
		for e, emp := range m.Employees {
			g, ok := idx[emp.Group]
			if !ok {
				g = int32(len(p.groups))
				idx[emp.Group] = g
				p.groups = append(p.groups, nil)
			}
			p.groupOf[e] = g
			p.groups[g] = append(p.groups[g], int32(e))
		}
	}
	return p
}

// counts reports whether employee e counts toward cover cell c.
func (p *problem) counts(e int, c int32) bool {
	sk := p.cellSkill[c]
	return sk < 0 || p.empSkill[e*p.K+int(sk)]
}

// cellCost is the cover cost of a cell holding n employees.
func (p *problem) cellCost(c int32, n int64) int64 {
	if r := p.cellReq[c]; n < r {
		return (r - n) * p.cellUnder[c]
	} else {
		return (n - r) * p.cellOver[c]
	}
}

// minutesCost prices an employee's horizon working time.
func (p *problem) minutesCost(e int, minutes int32) int64 {
	var c int64
	if l := p.maxMin[e]; l != noLimit && minutes > l {
		c += startedHours(int(minutes-l)) * p.w[kMaxMinutes]
	}
	if l := p.minMin[e]; l != noLimit && minutes < l {
		c += startedHours(int(l-minutes)) * p.w[kMinMinutes]
	}
	return c
}

// weekCost prices an employee's working time in week w.
func (p *problem) weekCost(e int, w int32, minutes int32) int64 {
	var c int64
	if l := p.maxWeek[e]; l != noLimit && minutes > l {
		c += startedHours(int(minutes-l)) * p.w[kMaxWeek]
	}
	if l := p.minWeek[e]; l != noLimit && minutes < l && p.weekWhole[w] {
		c += startedHours(int(l-minutes)) * p.w[kMinWeek]
	}
	return c
}

// typeCost prices the number of shifts of value v an employee works.
func (p *problem) typeCost(e, v int, n int32) int64 {
	if l := p.maxType[e*p.V+v]; l != noLimit && n > l {
		return int64(n-l) * p.w[kMaxType]
	}
	return 0
}

func (p *problem) weekendCost(e int, n int32) int64 {
	if l := p.maxWE[e]; l != noLimit && n > l {
		return int64(n-l) * p.w[kMaxWeekends]
	}
	return 0
}

// runCost prices a maximal run of working days (work) or days off over
// days [a, b].
func (p *problem) runCost(e int, work bool, a, b int) int64 {
	n := int32(b - a + 1)
	inner := a > 0 && b < p.D-1
	var c int64
	if work {
		if l := p.maxCons[e]; l != noLimit && n > l {
			c += int64(n-l) * p.w[kMaxCons]
		}
		if l := p.minCons[e]; inner && l != noLimit && n < l {
			c += int64(l-n) * p.w[kMinCons]
		}
	} else if l := p.minOff[e]; inner && l != noLimit && n < l {
		c += int64(l-n) * p.w[kMinOff]
	}
	return c
}

// encode turns a roster (assumed checked) into values; missing rows are off.
func (p *problem) encode(r Roster) []uint8 {
	shiftOf := make(map[string]uint8, p.S)
	for i, id := range p.shiftIDs {
		shiftOf[id] = uint8(i + 1)
	}
	x := make([]uint8, p.E*p.D)
	for e, id := range p.empIDs {
		row := r[id]
		for d := 0; d < p.D && d < len(row); d++ {
			x[e*p.D+d] = shiftOf[row[d]]
		}
	}
	return x
}

// decode turns values into a roster.
func (p *problem) decode(x []uint8) Roster {
	r := make(Roster, p.E)
	for e, id := range p.empIDs {
		row := make([]string, p.D)
		for d := range row {
			if v := x[e*p.D+d]; v != 0 {
				row[d] = p.shiftIDs[v-1]
			}
		}
		r[id] = row
	}
	return r
}

// maxLengthUnits is the longest shift's length in units of the gcd of all
// shift lengths: the factor by which a minutes limit widens a DP state.
func (p *problem) maxLengthUnits() int {
	var unit, longest int32
	for v := 1; v < p.V; v++ {
		unit = gcd(unit, p.length[v])
		longest = max(longest, p.length[v])
	}
	if unit <= 0 {
		return 1
	}
	return int(longest / unit)
}
