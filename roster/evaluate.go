package roster

import (
	"fmt"
	"sort"
	"time"
)

// Evaluation explains a roster: whether it is feasible, its penalty (the sum
// of soft costs; hard violations are listed, not priced), the penalty broken
// down three ways, and every violation.
type Evaluation struct {
	Feasible       bool        `json:"feasible"`
	Penalty        int64       `json:"penalty"`
	HardViolations int         `json:"hard_violations"`
	Breakdown      Breakdown   `json:"breakdown"`
	Violations     []Violation `json:"violations"`
}

// Breakdown splits the penalty by constraint (rule or cost term name), by
// employee and by date. Terms that belong to no single day (horizon minute
// limits, per-type limits, weekends, fairness) are absent from ByDay, and
// cover from ByEmployee. Only non-zero entries are listed.
type Breakdown struct {
	ByConstraint map[string]int64 `json:"by_constraint"`
	ByEmployee   map[string]int64 `json:"by_employee"`
	ByDay        map[string]int64 `json:"by_day"`
}

// Violation is one broken rule or one priced cost: who, which days, which
// rule, by how much (Amount in Unit; Actual against Limit).
type Violation struct {
	Rule     string   `json:"rule"`
	Hard     bool     `json:"hard"`
	Employee string   `json:"employee,omitempty"`
	Shift    string   `json:"shift,omitempty"`
	Skill    string   `json:"skill,omitempty"`
	Days     []int    `json:"days,omitempty"`
	Dates    []string `json:"dates,omitempty"`
	Amount   int      `json:"amount"`
	Unit     string   `json:"unit"`
	Actual   int      `json:"actual"`
	Limit    int      `json:"limit"`
	Penalty  int64    `json:"penalty"`
	Message  string   `json:"message"`
}

// Units of Violation.Amount.
const (
	UnitDays        = "days"
	UnitMinutes     = "minutes"
	UnitShifts      = "shifts"
	UnitWeekends    = "weekends"
	UnitPairs       = "pairs"
	UnitAssignments = "assignments"
	UnitEmployees   = "employees"
	UnitPoints      = "points"
)

// startedHours is the soft-cost unit of the minute rules.
func startedHours(minutes int) int64 { return int64((minutes + 59) / 60) }

type evaluator struct {
	m     *Model
	dates []string
	ev    *Evaluation
}

func (x *evaluator) record(v Violation, units int64, rule Rule, dayIdx int) {
	v.Hard = rule.Hard
	if !rule.Hard {
		v.Penalty = units * int64(rule.Weight)
	}
	for _, d := range v.Days {
		v.Dates = append(v.Dates, x.dates[d])
	}
	if v.Hard {
		x.ev.HardViolations++
		x.ev.Feasible = false
	}
	if v.Penalty == 0 && !v.Hard {
		// A zero-weight soft rule costs nothing: not worth listing.
		return
	}
	x.ev.Violations = append(x.ev.Violations, v)
	if v.Penalty > 0 {
		x.ev.Penalty += v.Penalty
		x.ev.Breakdown.ByConstraint[v.Rule] += v.Penalty
		if v.Employee != "" {
			x.ev.Breakdown.ByEmployee[v.Employee] += v.Penalty
		}
		if dayIdx >= 0 {
			x.ev.Breakdown.ByDay[x.dates[dayIdx]] += v.Penalty
		}
	}
}

// Evaluate scores a roster against a model from first principles. It is the
// independent reference: it shares no code with the solver's incremental
// evaluator. The roster must have a row of Days entries for every employee.
func Evaluate(m *Model, r Roster) (*Evaluation, error) {
	if errs := m.Validate(); len(errs) > 0 {
		return nil, ValidationError(errs)
	}
	if errs := checkRoster(m, r); len(errs) > 0 {
		return nil, ValidationError(errs)
	}
	x := &evaluator{m: m, dates: m.Dates(), ev: &Evaluation{
		Feasible: true,
		Breakdown: Breakdown{ByConstraint: map[string]int64{}, ByEmployee: map[string]int64{},
			ByDay: map[string]int64{}},
		Violations: []Violation{},
	}}
	shifts := map[string]ShiftType{}
	for _, st := range m.ShiftTypes {
		shifts[st.ID] = st
	}
	forbidden := forbiddenPairs(m)
	dayOf := map[string]int{}
	for i, d := range x.dates {
		dayOf[d] = i
	}
	start, H := m.Horizon()

	for _, e := range m.Employees {
		row := r[e.ID]
		works := func(d int) bool { return row[d] != "" }
		c := e.Contract

		// Fixed days off.
		offDays := map[int]bool{}
		for _, ds := range e.FixedDaysOff {
			offDays[dayOf[ds]] = true
		}
		for d := 0; d < H; d++ {
			if offDays[d] && works(d) {
				x.record(Violation{Rule: RuleFixedDaysOff, Employee: e.ID, Shift: row[d], Days: []int{d},
					Amount: 1, Unit: UnitAssignments, Actual: 1, Limit: 0,
					Message: fmt.Sprintf("%s works %s on %s, a fixed day off", e.ID, row[d], x.dates[d])},
					1, m.Rules.Get(RuleFixedDaysOff), d)
			}
		}

		// Skills required by the shift types worked.
		has := map[string]bool{}
		for _, s := range e.Skills {
			has[s] = true
		}
		for d := 0; d < H; d++ {
			if !works(d) {
				continue
			}
			for _, sk := range shifts[row[d]].RequiredSkills {
				if !has[sk] {
					x.record(Violation{Rule: RuleSkills, Employee: e.ID, Shift: row[d], Skill: sk, Days: []int{d},
						Amount: 1, Unit: UnitAssignments, Actual: 1, Limit: 0,
						Message: fmt.Sprintf("%s works %s on %s without skill %s", e.ID, row[d], x.dates[d], sk)},
						1, m.Rules.Get(RuleSkills), d)
				}
			}
		}

		// Rotation: only adjacent days inside the horizon.
		for d := 0; d+1 < H; d++ {
			if works(d) && works(d+1) && forbidden[[2]string{row[d], row[d+1]}] {
				x.record(Violation{Rule: RuleRotation, Employee: e.ID, Shift: row[d+1], Days: []int{d, d + 1},
					Amount: 1, Unit: UnitPairs, Actual: 1, Limit: 0,
					Message: fmt.Sprintf("%s works %s on %s after %s, a forbidden succession", e.ID, row[d+1], x.dates[d+1], row[d])},
					1, m.Rules.Get(RuleRotation), d+1)
			}
		}

		// Per-type limits.
		count := map[string]int{}
		minutes := 0
		for d := 0; d < H; d++ {
			if works(d) {
				count[row[d]]++
				minutes += shifts[row[d]].LengthMinutes
			}
		}
		types := make([]string, 0, len(c.MaxShifts))
		for s := range c.MaxShifts {
			types = append(types, s)
		}
		sort.Strings(types)
		for _, s := range types {
			if lim := c.MaxShifts[s]; count[s] > lim {
				x.record(Violation{Rule: RuleMaxShiftsPerType, Employee: e.ID, Shift: s,
					Amount: count[s] - lim, Unit: UnitShifts, Actual: count[s], Limit: lim,
					Message: fmt.Sprintf("%s works %d %s shifts (max %d)", e.ID, count[s], s, lim)},
					int64(count[s]-lim), m.Rules.Get(RuleMaxShiftsPerType), -1)
			}
		}

		// Working time over the horizon.
		if c.MaxMinutes != nil && minutes > *c.MaxMinutes {
			dev := minutes - *c.MaxMinutes
			x.record(Violation{Rule: RuleMaxMinutes, Employee: e.ID, Amount: dev, Unit: UnitMinutes,
				Actual: minutes, Limit: *c.MaxMinutes,
				Message: fmt.Sprintf("%s works %d minutes (max %d)", e.ID, minutes, *c.MaxMinutes)},
				startedHours(dev), m.Rules.Get(RuleMaxMinutes), -1)
		}
		if c.MinMinutes != nil && minutes < *c.MinMinutes {
			dev := *c.MinMinutes - minutes
			x.record(Violation{Rule: RuleMinMinutes, Employee: e.ID, Amount: dev, Unit: UnitMinutes,
				Actual: minutes, Limit: *c.MinMinutes,
				Message: fmt.Sprintf("%s works %d minutes (min %d)", e.ID, minutes, *c.MinMinutes)},
				startedHours(dev), m.Rules.Get(RuleMinMinutes), -1)
		}

		// Working time per Monday-to-Sunday week.
		if c.MinWeeklyMinutes != nil || c.MaxWeeklyMinutes != nil {
			for d := 0; d < H; {
				wd := (int(start.AddDate(0, 0, d).Weekday()) + 6) % 7 // Monday = 0
				end := d + 7 - wd
				if end > H {
					end = H
				}
				whole := wd == 0 && end-d == 7
				sum := 0
				var days []int
				for i := d; i < end; i++ {
					days = append(days, i)
					if works(i) {
						sum += shifts[row[i]].LengthMinutes
					}
				}
				if c.MaxWeeklyMinutes != nil && sum > *c.MaxWeeklyMinutes {
					dev := sum - *c.MaxWeeklyMinutes
					x.record(Violation{Rule: RuleMaxWeeklyMinutes, Employee: e.ID, Days: days, Amount: dev,
						Unit: UnitMinutes, Actual: sum, Limit: *c.MaxWeeklyMinutes,
						Message: fmt.Sprintf("%s works %d minutes in the week of %s (max %d)", e.ID, sum, x.dates[d], *c.MaxWeeklyMinutes)},
						startedHours(dev), m.Rules.Get(RuleMaxWeeklyMinutes), d)
				}
				if whole && c.MinWeeklyMinutes != nil && sum < *c.MinWeeklyMinutes {
					dev := *c.MinWeeklyMinutes - sum
					x.record(Violation{Rule: RuleMinWeeklyMinutes, Employee: e.ID, Days: days, Amount: dev,
						Unit: UnitMinutes, Actual: sum, Limit: *c.MinWeeklyMinutes,
						Message: fmt.Sprintf("%s works %d minutes in the week of %s (min %d)", e.ID, sum, x.dates[d], *c.MinWeeklyMinutes)},
						startedHours(dev), m.Rules.Get(RuleMinWeeklyMinutes), d)
				}
				d = end
			}
		}

		// Maximal runs of working days and of days off.
		for d := 0; d < H; {
			end := d
			for end+1 < H && works(end+1) == works(d) {
				end++
			}
			n := end - d + 1
			touchesEdge := d == 0 || end == H-1
			var days []int
			for i := d; i <= end; i++ {
				days = append(days, i)
			}
			if works(d) {
				if c.MaxConsecutiveWork != nil && n > *c.MaxConsecutiveWork {
					x.record(Violation{Rule: RuleMaxConsecutiveWork, Employee: e.ID, Days: days,
						Amount: n - *c.MaxConsecutiveWork, Unit: UnitDays, Actual: n, Limit: *c.MaxConsecutiveWork,
						Message: fmt.Sprintf("%s works %d consecutive days from %s (max %d)", e.ID, n, x.dates[d], *c.MaxConsecutiveWork)},
						int64(n-*c.MaxConsecutiveWork), m.Rules.Get(RuleMaxConsecutiveWork), d)
				}
				if c.MinConsecutiveWork != nil && n < *c.MinConsecutiveWork && !touchesEdge {
					x.record(Violation{Rule: RuleMinConsecutiveWork, Employee: e.ID, Days: days,
						Amount: *c.MinConsecutiveWork - n, Unit: UnitDays, Actual: n, Limit: *c.MinConsecutiveWork,
						Message: fmt.Sprintf("%s works only %d consecutive days from %s (min %d)", e.ID, n, x.dates[d], *c.MinConsecutiveWork)},
						int64(*c.MinConsecutiveWork-n), m.Rules.Get(RuleMinConsecutiveWork), d)
				}
			} else if c.MinConsecutiveOff != nil && n < *c.MinConsecutiveOff && !touchesEdge {
				x.record(Violation{Rule: RuleMinConsecutiveOff, Employee: e.ID, Days: days,
					Amount: *c.MinConsecutiveOff - n, Unit: UnitDays, Actual: n, Limit: *c.MinConsecutiveOff,
					Message: fmt.Sprintf("%s has only %d consecutive days off from %s (min %d)", e.ID, n, x.dates[d], *c.MinConsecutiveOff)},
					int64(*c.MinConsecutiveOff-n), m.Rules.Get(RuleMinConsecutiveOff), d)
			}
			d = end + 1
		}

		// Weekends: Saturday plus the following Sunday.
		if c.MaxWeekends != nil {
			worked := 0
			var days []int
			for _, we := range weekendsOf(start, H) {
				w := false
				for _, d := range we {
					w = w || works(d)
				}
				if w {
					worked++
					days = append(days, we[0])
				}
			}
			if worked > *c.MaxWeekends {
				x.record(Violation{Rule: RuleMaxWeekends, Employee: e.ID, Days: days,
					Amount: worked - *c.MaxWeekends, Unit: UnitWeekends, Actual: worked, Limit: *c.MaxWeekends,
					Message: fmt.Sprintf("%s works %d weekends (max %d)", e.ID, worked, *c.MaxWeekends)},
					int64(worked-*c.MaxWeekends), m.Rules.Get(RuleMaxWeekends), -1)
			}
		}
	}

	// Requests.
	soft := Rule{Hard: false, Weight: 1}
	for _, q := range m.Requests {
		d := dayOf[q.Date]
		got := r[q.Employee][d]
		var unmet bool
		switch {
		case q.Kind == RequestOn && q.Shift != "":
			unmet = got != q.Shift
		case q.Kind == RequestOn:
			unmet = got == ""
		case q.Shift != "":
			unmet = got == q.Shift
		default:
			unmet = got != ""
		}
		if !unmet {
			continue
		}
		rule, want := TermRequestOn, "on"
		if q.Kind == RequestOff {
			rule, want = TermRequestOff, "off"
		}
		what := q.Shift
		if what == "" {
			what = "any shift"
		}
		x.record(Violation{Rule: rule, Employee: q.Employee, Shift: q.Shift, Days: []int{d}, Amount: 1,
			Unit: UnitAssignments, Actual: 1, Limit: 0,
			Message: fmt.Sprintf("%s asked to be %s %s on %s", q.Employee, want, what, q.Date)},
			int64(q.Weight), soft, d)
	}

	// Pinned assignments.
	for _, p := range m.Pinned {
		d := dayOf[p.Date]
		if got := r[p.Employee][d]; got != p.Shift {
			x.record(Violation{Rule: RulePinned, Employee: p.Employee, Shift: p.Shift, Days: []int{d}, Amount: 1,
				Unit: UnitAssignments, Actual: 1, Limit: 0,
				Message: fmt.Sprintf("%s is pinned to %q on %s but has %q", p.Employee, p.Shift, p.Date, got)},
				1, m.Rules.Get(RulePinned), d)
		}
	}

	// Changes against the previous roster.
	if m.Previous != nil {
		ids := make([]string, 0, len(m.Previous.Roster))
		for id := range m.Previous.Roster {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			for d, was := range m.Previous.Roster[id] {
				if now := r[id][d]; now != was {
					x.record(Violation{Rule: TermChange, Employee: id, Shift: now, Days: []int{d}, Amount: 1,
						Unit: UnitAssignments, Actual: 1, Limit: 0,
						Message: fmt.Sprintf("%s changes from %q to %q on %s", id, was, now, x.dates[d])},
						int64(m.Previous.ChangeWeight), soft, d)
				}
			}
		}
	}

	// Cover.
	skillsOf := map[string]map[string]bool{}
	for _, e := range m.Employees {
		skillsOf[e.ID] = map[string]bool{}
		for _, s := range e.Skills {
			skillsOf[e.ID][s] = true
		}
	}
	for _, cv := range m.Cover {
		d := dayOf[cv.Date]
		n := 0
		for _, e := range m.Employees {
			if r[e.ID][d] == cv.Shift && (cv.Skill == "" || skillsOf[e.ID][cv.Skill]) {
				n++
			}
		}
		if n < cv.Requirement {
			x.record(Violation{Rule: TermCoverUnder, Shift: cv.Shift, Skill: cv.Skill, Days: []int{d},
				Amount: cv.Requirement - n, Unit: UnitEmployees, Actual: n, Limit: cv.Requirement,
				Message: fmt.Sprintf("%s on %s has %d of %d employees", cv.Shift, cv.Date, n, cv.Requirement)},
				int64(cv.Requirement-n), Rule{Weight: cv.UnderWeight}, d)
		}
		if n > cv.Requirement {
			x.record(Violation{Rule: TermCoverOver, Shift: cv.Shift, Skill: cv.Skill, Days: []int{d},
				Amount: n - cv.Requirement, Unit: UnitEmployees, Actual: n, Limit: cv.Requirement,
				Message: fmt.Sprintf("%s on %s has %d employees for %d", cv.Shift, cv.Date, n, cv.Requirement)},
				int64(n-cv.Requirement), Rule{Weight: cv.OverWeight}, d)
		}
	}

	// Fairness: spread within each group.
	if m.Fairness.active() {
		groups := map[string][]Employee{}
		var names []string
		for _, e := range m.Employees {
			if _, ok := groups[e.Group]; !ok {
				names = append(names, e.Group)
			}
			groups[e.Group] = append(groups[e.Group], e)
		}
		weekends := weekendsOf(start, H)
		for _, g := range names {
			var mins, wes, nights []int
			for _, e := range groups[g] {
				row := r[e.ID]
				mi, ni, wi := 0, 0, 0
				for d := 0; d < H; d++ {
					if row[d] != "" {
						mi += shifts[row[d]].LengthMinutes
						if shifts[row[d]].Night {
							ni++
						}
					}
				}
				for _, we := range weekends {
					for _, d := range we {
						if row[d] != "" {
							wi++
							break
						}
					}
				}
				mins, wes, nights = append(mins, mi), append(wes, wi), append(nights, ni)
			}
			f := m.Fairness
			spreadMin := spread(mins)
			pen := int64(f.MinutesWeight)*int64(spreadMin)/60 + int64(f.WeekendsWeight)*int64(spread(wes)) +
				int64(f.NightsWeight)*int64(spread(nights))
			if pen > 0 {
				x.record(Violation{Rule: TermFairness, Amount: int(pen), Unit: UnitPoints,
					Message: fmt.Sprintf("group %q: spread of %d minutes, %d weekends, %d nights", g, spreadMin, spread(wes), spread(nights))},
					pen, Rule{Weight: 1}, -1)
			}
		}
	}
	return x.ev, nil
}

func spread(v []int) int {
	if len(v) == 0 {
		return 0
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return hi - lo
}

// weekendsOf lists each weekend's day indexes: a Saturday with the Sunday
// after it, or a lone Sunday on day 0 or a lone Saturday on the last day.
func weekendsOf(start time.Time, days int) [][]int {
	var out [][]int
	for d := 0; d < days; d++ {
		switch start.AddDate(0, 0, d).Weekday() {
		case time.Saturday:
			if d+1 < days {
				out = append(out, []int{d, d + 1})
			} else {
				out = append(out, []int{d})
			}
		case time.Sunday:
			if d == 0 {
				out = append(out, []int{0})
			}
		}
	}
	return out
}

// forbiddenPairs is the set of (shift, next day's shift) pairs that break
// rotation: the explicit lists plus those closer than the minimum rest.
func forbiddenPairs(m *Model) map[[2]string]bool {
	out := map[[2]string]bool{}
	for _, st := range m.ShiftTypes {
		for _, f := range st.ForbiddenSuccessors {
			out[[2]string{st.ID, f}] = true
		}
	}
	if m.MinRestHours > 0 {
		for _, a := range m.ShiftTypes {
			sa, _ := parseClock(a.Start)
			for _, b := range m.ShiftTypes {
				sb, _ := parseClock(b.Start)
				rest := 24*60 + sb - (sa + a.LengthMinutes)
				if rest < m.MinRestHours*60 {
					out[[2]string{a.ID, b.ID}] = true
				}
			}
		}
	}
	return out
}

// checkRoster reports rows that are missing, the wrong length, for unknown
// employees, or that name unknown shift types.
func checkRoster(m *Model, r Roster) []FieldError {
	_, H := m.Horizon()
	known := map[string]bool{}
	for _, st := range m.ShiftTypes {
		known[st.ID] = true
	}
	var errs []FieldError
	emps := map[string]bool{}
	for _, e := range m.Employees {
		emps[e.ID] = true
		row, ok := r[e.ID]
		if !ok {
			errs = append(errs, FieldError{Field: "roster." + e.ID, Reason: "missing row for employee " + e.ID})
			continue
		}
		if len(row) != H {
			errs = append(errs, FieldError{Field: "roster." + e.ID, Reason: fmt.Sprintf("has %d days, the horizon has %d", len(row), H)})
			continue
		}
		for d, s := range row {
			if s != "" && !known[s] {
				errs = append(errs, FieldError{Field: fmt.Sprintf("roster.%s[%d]", e.ID, d), Reason: fmt.Sprintf("unknown shift type %q", s)})
			}
		}
	}
	ids := make([]string, 0, len(r))
	for id := range r {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !emps[id] {
			errs = append(errs, FieldError{Field: "roster." + id, Reason: "unknown employee " + id})
		}
	}
	return errs
}
