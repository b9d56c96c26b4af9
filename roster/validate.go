package roster

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Size limits of the core itself; the API applies its own, smaller ones.
const (
	MaxDays       = 3660
	MaxShiftTypes = 250
	// MaxWeight bounds every weight so penalty sums cannot overflow.
	MaxWeight = 1_000_000
)

// FieldError names one bad field of a model by its JSON path
// (e.g. "cover[14].shift") and says what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// ValidationError is every problem found in a model.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, 0, len(v))
	for i, e := range v {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(v)-10))
			break
		}
		parts = append(parts, e.Error())
	}
	return "invalid model: " + strings.Join(parts, "; ")
}

type validator struct {
	errs  []FieldError
	start time.Time
	days  int
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// date checks a date field and returns its day index, or -1.
func (v *validator) date(field, s string) int {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		v.add(field, "%q is not a date (want YYYY-MM-DD)", s)
		return -1
	}
	if v.days <= 0 {
		return -1
	}
	d := int(t.Sub(v.start).Hours() / 24)
	if t.Before(v.start) || d >= v.days {
		v.add(field, "%s is outside the horizon %s .. %s", s, v.start.Format(DateLayout),
			v.start.AddDate(0, 0, v.days-1).Format(DateLayout))
		return -1
	}
	return d
}

// weight checks a weight is in 0..MaxWeight.
func (v *validator) weight(field string, w int) {
	if w < 0 {
		v.add(field, "must not be negative, got %d", w)
	} else if w > MaxWeight {
		v.add(field, "must not exceed %d, got %d", MaxWeight, w)
	}
}

// maxLimit bounds contract limits (minutes of the longest horizon).
const maxLimit = MaxDays * 24 * 60

func (v *validator) nonNegative(field string, p *int) {
	if p != nil && (*p < 0 || *p > maxLimit) {
		v.add(field, "must be between 0 and %d, got %d", maxLimit, *p)
	}
}

// parseClock reads "HH:MM" into minutes after midnight.
func parseClock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// Validate checks the model and returns every problem found, each naming
// the JSON field path and the reason; nil means the model can be solved.
func (m *Model) Validate() []FieldError {
	v := &validator{}
	// Horizon.
	if m.StartDate == "" {
		v.add("start_date", "is required")
	} else if t, err := time.Parse(DateLayout, m.StartDate); err != nil {
		v.add("start_date", "%q is not a date (want YYYY-MM-DD)", m.StartDate)
	} else {
		v.start = t
		days := m.Days
		switch {
		case m.Days < 0:
			v.add("days", "must be positive, got %d", m.Days)
			days = 0
		case m.EndDate != "":
			end, err := time.Parse(DateLayout, m.EndDate)
			if err != nil {
				v.add("end_date", "%q is not a date (want YYYY-MM-DD)", m.EndDate)
				days = 0
				break
			}
			n := int(end.Sub(t).Hours()/24) + 1
			if n <= 0 {
				v.add("end_date", "%s is before start_date %s", m.EndDate, m.StartDate)
				days = 0
			} else if m.Days != 0 && m.Days != n {
				v.add("days", "%d disagrees with end_date %s (%d days)", m.Days, m.EndDate, n)
				days = 0
			} else {
				days = n
			}
		case m.Days == 0:
			v.add("days", "is required (or end_date)")
		}
		if days > MaxDays {
			v.add("days", "horizon of %d days exceeds the limit of %d", days, MaxDays)
			days = 0
		}
		v.days = days
	}

	// Shift types.
	shiftIdx := map[string]int{}
	if len(m.ShiftTypes) == 0 {
		v.add("shift_types", "at least one shift type is required")
	}
	if len(m.ShiftTypes) > MaxShiftTypes {
		v.add("shift_types", "%d shift types exceed the limit of %d", len(m.ShiftTypes), MaxShiftTypes)
	}
	for i, st := range m.ShiftTypes {
		f := fmt.Sprintf("shift_types[%d]", i)
		switch {
		case st.ID == "":
			v.add(f+".id", "is required")
		case shiftIdx[st.ID] != 0:
			v.add(f+".id", "duplicate shift type id %q (also shift_types[%d])", st.ID, shiftIdx[st.ID]-1)
		default:
			shiftIdx[st.ID] = i + 1
		}
		if st.LengthMinutes <= 0 || st.LengthMinutes > 24*60 {
			v.add(f+".length_minutes", "must be between 1 and 1440, got %d", st.LengthMinutes)
		}
		if st.Start != "" {
			if _, ok := parseClock(st.Start); !ok {
				v.add(f+".start", "%q is not a time of day (want HH:MM)", st.Start)
			}
		} else if m.MinRestHours > 0 {
			v.add(f+".start", "is required when min_rest_hours is set")
		}
		for j, sk := range st.RequiredSkills {
			if sk == "" {
				v.add(fmt.Sprintf("%s.required_skills[%d]", f, j), "must not be empty")
			}
		}
	}
	for i, st := range m.ShiftTypes {
		for j, succ := range st.ForbiddenSuccessors {
			if shiftIdx[succ] == 0 {
				v.add(fmt.Sprintf("shift_types[%d].forbidden_successors[%d]", i, j), "unknown shift type %q", succ)
			}
		}
	}
	if m.MinRestHours < 0 || m.MinRestHours > 48 {
		v.add("min_rest_hours", "must be between 0 and 48, got %d", m.MinRestHours)
	}

	// Employees.
	empIdx := map[string]int{}
	if len(m.Employees) == 0 {
		v.add("employees", "at least one employee is required")
	}
	fixedOff := map[[2]int]bool{}
	for i, e := range m.Employees {
		f := fmt.Sprintf("employees[%d]", i)
		switch {
		case e.ID == "":
			v.add(f+".id", "is required")
		case empIdx[e.ID] != 0:
			v.add(f+".id", "duplicate employee id %q (also employees[%d])", e.ID, empIdx[e.ID]-1)
		default:
			empIdx[e.ID] = i + 1
		}
		for j, sk := range e.Skills {
			if sk == "" {
				v.add(fmt.Sprintf("%s.skills[%d]", f, j), "must not be empty")
			}
		}
		c := e.Contract
		cf := f + ".contract"
		v.nonNegative(cf+".min_minutes", c.MinMinutes)
		v.nonNegative(cf+".max_minutes", c.MaxMinutes)
		v.nonNegative(cf+".min_weekly_minutes", c.MinWeeklyMinutes)
		v.nonNegative(cf+".max_weekly_minutes", c.MaxWeeklyMinutes)
		v.nonNegative(cf+".min_consecutive_work", c.MinConsecutiveWork)
		v.nonNegative(cf+".min_consecutive_off", c.MinConsecutiveOff)
		v.nonNegative(cf+".max_weekends", c.MaxWeekends)
		if c.MaxConsecutiveWork != nil && (*c.MaxConsecutiveWork < 1 || *c.MaxConsecutiveWork > maxLimit) {
			v.add(cf+".max_consecutive_work", "must be between 1 and %d, got %d", maxLimit, *c.MaxConsecutiveWork)
		}
		if c.MinMinutes != nil && c.MaxMinutes != nil && *c.MinMinutes > *c.MaxMinutes {
			v.add(cf+".min_minutes", "%d exceeds max_minutes %d", *c.MinMinutes, *c.MaxMinutes)
		}
		if c.MinWeeklyMinutes != nil && c.MaxWeeklyMinutes != nil && *c.MinWeeklyMinutes > *c.MaxWeeklyMinutes {
			v.add(cf+".min_weekly_minutes", "%d exceeds max_weekly_minutes %d", *c.MinWeeklyMinutes, *c.MaxWeeklyMinutes)
		}
		if c.MinConsecutiveWork != nil && c.MaxConsecutiveWork != nil && *c.MinConsecutiveWork > *c.MaxConsecutiveWork {
			v.add(cf+".min_consecutive_work", "%d exceeds max_consecutive_work %d", *c.MinConsecutiveWork, *c.MaxConsecutiveWork)
		}
		keys := make([]string, 0, len(c.MaxShifts))
		for k := range c.MaxShifts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kf := fmt.Sprintf("%s.max_shifts.%s", cf, k)
			if shiftIdx[k] == 0 {
				v.add(kf, "unknown shift type %q", k)
			}
			if c.MaxShifts[k] < 0 || c.MaxShifts[k] > maxLimit {
				v.add(kf, "must be between 0 and %d, got %d", maxLimit, c.MaxShifts[k])
			}
		}
		for j, ds := range e.FixedDaysOff {
			if d := v.date(fmt.Sprintf("%s.fixed_days_off[%d]", f, j), ds); d >= 0 {
				fixedOff[[2]int{i, d}] = true
			}
		}
	}

	// Cover.
	type coverKey struct{ date, shift, skill string }
	seenCover := map[coverKey]int{}
	for i, c := range m.Cover {
		f := fmt.Sprintf("cover[%d]", i)
		v.date(f+".date", c.Date)
		if shiftIdx[c.Shift] == 0 {
			v.add(f+".shift", "unknown shift type %q", c.Shift)
		}
		if c.Requirement < 0 || c.Requirement > 1_000_000 {
			v.add(f+".requirement", "must be between 0 and 1000000, got %d", c.Requirement)
		}
		v.weight(f+".under_weight", c.UnderWeight)
		v.weight(f+".over_weight", c.OverWeight)
		k := coverKey{c.Date, c.Shift, c.Skill}
		if prev, dup := seenCover[k]; dup {
			v.add(f, "duplicate cover for date %s, shift %q, skill %q (also cover[%d])", c.Date, c.Shift, c.Skill, prev)
		} else {
			seenCover[k] = i
		}
	}

	// Requests.
	for i, r := range m.Requests {
		f := fmt.Sprintf("requests[%d]", i)
		if empIdx[r.Employee] == 0 {
			v.add(f+".employee", "unknown employee %q", r.Employee)
		}
		v.date(f+".date", r.Date)
		if r.Shift != "" && shiftIdx[r.Shift] == 0 {
			v.add(f+".shift", "unknown shift type %q", r.Shift)
		}
		if r.Kind != RequestOn && r.Kind != RequestOff {
			v.add(f+".kind", "must be %q or %q, got %q", RequestOn, RequestOff, r.Kind)
		}
		v.weight(f+".weight", r.Weight)
	}

	// Pinned assignments.
	pinned := map[[2]int]string{}
	for i, p := range m.Pinned {
		f := fmt.Sprintf("pinned[%d]", i)
		ei := empIdx[p.Employee] - 1
		if ei < 0 {
			v.add(f+".employee", "unknown employee %q", p.Employee)
		}
		d := v.date(f+".date", p.Date)
		if p.Shift != "" && shiftIdx[p.Shift] == 0 {
			v.add(f+".shift", "unknown shift type %q", p.Shift)
			continue
		}
		if ei < 0 || d < 0 {
			continue
		}
		k := [2]int{ei, d}
		if prev, dup := pinned[k]; dup && prev != p.Shift {
			v.add(f, "conflicting pins for employee %q on %s (%q and %q)", p.Employee, p.Date, prev, p.Shift)
		}
		pinned[k] = p.Shift
		if p.Shift != "" && fixedOff[k] && m.Rules.Get(RulePinned).Hard && m.Rules.Get(RuleFixedDaysOff).Hard {
			v.add(f, "pins employee %q to %q on %s, a fixed day off", p.Employee, p.Shift, p.Date)
		}
	}

	// Previous roster.
	if m.Previous != nil {
		v.weight("previous.change_weight", m.Previous.ChangeWeight)
		ids := make([]string, 0, len(m.Previous.Roster))
		for id := range m.Previous.Roster {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			row := m.Previous.Roster[id]
			f := "previous.roster." + id
			if empIdx[id] == 0 {
				v.add(f, "unknown employee %q", id)
			}
			if v.days > 0 && len(row) != v.days {
				v.add(f, "has %d days, the horizon has %d", len(row), v.days)
			}
			for d, s := range row {
				if s != "" && shiftIdx[s] == 0 {
					v.add(fmt.Sprintf("%s[%d]", f, d), "unknown shift type %q", s)
				}
			}
		}
	}

	// Rules and fairness weights.
	for _, name := range ruleNames {
		v.weight("rules."+name+".weight", m.Rules.Get(name).Weight)
	}
	if f := m.Fairness; f != nil {
		v.weight("fairness.minutes_weight", f.MinutesWeight)
		v.weight("fairness.weekends_weight", f.WeekendsWeight)
		v.weight("fairness.nights_weight", f.NightsWeight)
	}
	return v.errs
}
