package roster

import (
	"time"
)

// DateLayout is the calendar date format used throughout the model.
const DateLayout = "2006-01-02"

// Model is a rostering problem in domain terms: calendar dates, ids and
// names. It is the JSON the API accepts; the NRP reader produces one too, so
// every input goes through the same evaluator and solver.
type Model struct {
	Name string `json:"name,omitempty"`
	// StartDate is the first day of the horizon (YYYY-MM-DD).
	StartDate string `json:"start_date"`
	// Days is the horizon length; EndDate (inclusive) may be given instead
	// or as well, in which case both must agree.
	Days    int    `json:"days,omitempty"`
	EndDate string `json:"end_date,omitempty"`

	ShiftTypes []ShiftType `json:"shift_types"`
	// MinRestHours, when positive, forbids a shift on the day after another
	// whenever the rest between them is shorter; it needs every shift type's
	// start time and adds to the explicit forbidden successors.
	MinRestHours int `json:"min_rest_hours,omitempty"`

	Employees []Employee `json:"employees"`
	Cover     []Cover    `json:"cover"`
	Requests  []Request  `json:"requests,omitempty"`
	// Pinned assignments fix an employee's shift (or a day off with an
	// empty shift) on a date, e.g. an agreed swap.
	Pinned   []Assignment `json:"pinned,omitempty"`
	Previous *Previous    `json:"previous,omitempty"`
	Rules    Rules        `json:"rules,omitempty"`
	Fairness *Fairness    `json:"fairness,omitempty"`
}

// ShiftType is a kind of shift worked on one day.
type ShiftType struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Start is the local start time "HH:MM"; needed only with MinRestHours.
	Start               string   `json:"start,omitempty"`
	LengthMinutes       int      `json:"length_minutes"`
	RequiredSkills      []string `json:"required_skills,omitempty"`
	ForbiddenSuccessors []string `json:"forbidden_successors,omitempty"`
	// Night marks the shift for the fairness term's night count.
	Night bool `json:"night,omitempty"`
}

// Employee is a person who can be rostered.
type Employee struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Skills   []string `json:"skills,omitempty"`
	Contract Contract `json:"contract"`
	// FixedDaysOff are dates the employee must not work (leave, holidays).
	FixedDaysOff []string `json:"fixed_days_off,omitempty"`
	// Group names the employees the fairness term compares with each other;
	// employees with no group form one group.
	Group string `json:"group,omitempty"`
}

// Contract holds an employee's working-time limits. A nil limit is absent.
type Contract struct {
	MinMinutes       *int `json:"min_minutes,omitempty"`
	MaxMinutes       *int `json:"max_minutes,omitempty"`
	MinWeeklyMinutes *int `json:"min_weekly_minutes,omitempty"`
	MaxWeeklyMinutes *int `json:"max_weekly_minutes,omitempty"`
	// MaxShifts limits how often each shift type (by id) is worked over the
	// horizon; 0 means never. Shift types not listed are unlimited.
	MaxShifts          map[string]int `json:"max_shifts,omitempty"`
	MinConsecutiveWork *int           `json:"min_consecutive_work,omitempty"`
	MaxConsecutiveWork *int           `json:"max_consecutive_work,omitempty"`
	MinConsecutiveOff  *int           `json:"min_consecutive_off,omitempty"`
	MaxWeekends        *int           `json:"max_weekends,omitempty"`
}

// Cover is the wanted number of employees on one shift type on one date,
// optionally counting only employees with a skill. Each missing employee
// costs UnderWeight, each extra one OverWeight.
type Cover struct {
	Date        string `json:"date"`
	Shift       string `json:"shift"`
	Skill       string `json:"skill,omitempty"`
	Requirement int    `json:"requirement"`
	UnderWeight int    `json:"under_weight"`
	OverWeight  int    `json:"over_weight"`
}

// Request kinds.
const (
	RequestOn  = "on"
	RequestOff = "off"
)

// Request is an employee's wish for a date. An "on" request with a shift
// costs Weight unless that exact shift is worked; without a shift, unless
// any shift is worked. An "off" request with a shift costs Weight when that
// shift is worked; without a shift, when any shift is worked.
type Request struct {
	Employee string `json:"employee"`
	Date     string `json:"date"`
	Shift    string `json:"shift,omitempty"`
	Kind     string `json:"kind"`
	Weight   int    `json:"weight"`
}

// Assignment is one employee's shift on one date; an empty Shift is a day off.
type Assignment struct {
	Employee string `json:"employee"`
	Date     string `json:"date"`
	Shift    string `json:"shift"`
}

// Previous is the roster being re-planned: every day on which an employee
// listed here gets a different value than before costs ChangeWeight.
// Roster rows are aligned with the horizon (one entry per day).
type Previous struct {
	ChangeWeight int    `json:"change_weight"`
	Roster       Roster `json:"roster"`
}

// Roster maps an employee id to one shift id per day of the horizon, ""
// for a day off.
type Roster map[string][]string

// Rule says whether a contract rule is hard (a violation makes the roster
// infeasible) or soft (each unit of violation costs Weight).
type Rule struct {
	Hard   bool `json:"hard"`
	Weight int  `json:"weight,omitempty"`
}

// Rule names, used in Rules, breakdowns and violations.
const (
	RuleRotation           = "rotation"
	RuleMaxShiftsPerType   = "max_shifts_per_type"
	RuleMinMinutes         = "min_minutes"
	RuleMaxMinutes         = "max_minutes"
	RuleMinWeeklyMinutes   = "min_weekly_minutes"
	RuleMaxWeeklyMinutes   = "max_weekly_minutes"
	RuleMinConsecutiveWork = "min_consecutive_work"
	RuleMaxConsecutiveWork = "max_consecutive_work"
	RuleMinConsecutiveOff  = "min_consecutive_off"
	RuleMaxWeekends        = "max_weekends"
	RuleFixedDaysOff       = "fixed_days_off"
	RulePinned             = "pinned"
	RuleSkills             = "skills"

	// Cost terms that are always soft.
	TermCoverUnder = "cover_under"
	TermCoverOver  = "cover_over"
	TermRequestOn  = "shift_on_request"
	TermRequestOff = "shift_off_request"
	TermChange     = "change"
	TermFairness   = "fairness"
)

// Rules sets each contract rule hard or soft; a missing rule is hard.
// Units of violation: days for consecutive rules, shifts for per-type
// limits, weekends, forbidden pairs for rotation, started hours for the
// minute limits, assignments for fixed days off, pins and skills.
type Rules struct {
	Rotation           *Rule `json:"rotation,omitempty"`
	MaxShiftsPerType   *Rule `json:"max_shifts_per_type,omitempty"`
	MinMinutes         *Rule `json:"min_minutes,omitempty"`
	MaxMinutes         *Rule `json:"max_minutes,omitempty"`
	MinWeeklyMinutes   *Rule `json:"min_weekly_minutes,omitempty"`
	MaxWeeklyMinutes   *Rule `json:"max_weekly_minutes,omitempty"`
	MinConsecutiveWork *Rule `json:"min_consecutive_work,omitempty"`
	MaxConsecutiveWork *Rule `json:"max_consecutive_work,omitempty"`
	MinConsecutiveOff  *Rule `json:"min_consecutive_off,omitempty"`
	MaxWeekends        *Rule `json:"max_weekends,omitempty"`
	FixedDaysOff       *Rule `json:"fixed_days_off,omitempty"`
	Pinned             *Rule `json:"pinned,omitempty"`
	Skills             *Rule `json:"skills,omitempty"`
}

// Get returns the setting of the named rule (hard when unset or unknown).
func (r Rules) Get(name string) Rule {
	var p *Rule
	switch name {
	case RuleRotation:
		p = r.Rotation
	case RuleMaxShiftsPerType:
		p = r.MaxShiftsPerType
	case RuleMinMinutes:
		p = r.MinMinutes
	case RuleMaxMinutes:
		p = r.MaxMinutes
	case RuleMinWeeklyMinutes:
		p = r.MinWeeklyMinutes
	case RuleMaxWeeklyMinutes:
		p = r.MaxWeeklyMinutes
	case RuleMinConsecutiveWork:
		p = r.MinConsecutiveWork
	case RuleMaxConsecutiveWork:
		p = r.MaxConsecutiveWork
	case RuleMinConsecutiveOff:
		p = r.MinConsecutiveOff
	case RuleMaxWeekends:
		p = r.MaxWeekends
	case RuleFixedDaysOff:
		p = r.FixedDaysOff
	case RulePinned:
		p = r.Pinned
	case RuleSkills:
		p = r.Skills
	}
	if p == nil {
		return Rule{Hard: true}
	}
	return *p
}

// ruleNames lists the contract rules in a stable order.
var ruleNames = []string{
	RuleRotation, RuleMaxShiftsPerType, RuleMinMinutes, RuleMaxMinutes,
	RuleMinWeeklyMinutes, RuleMaxWeeklyMinutes, RuleMinConsecutiveWork,
	RuleMaxConsecutiveWork, RuleMinConsecutiveOff, RuleMaxWeekends,
	RuleFixedDaysOff, RulePinned, RuleSkills,
}

// Fairness prices the spread (largest minus smallest value) between
// employees of the same group: per hour of working time, per weekend worked
// and per night shift. It is off when nil or all weights are zero.
type Fairness struct {
	MinutesWeight  int `json:"minutes_weight,omitempty"`
	WeekendsWeight int `json:"weekends_weight,omitempty"`
	NightsWeight   int `json:"nights_weight,omitempty"`
}

func (f *Fairness) active() bool {
	return f != nil && (f.MinutesWeight > 0 || f.WeekendsWeight > 0 || f.NightsWeight > 0)
}

// Horizon returns the first date and the number of days, assuming a valid
// model (see Validate).
func (m *Model) Horizon() (time.Time, int) {
	start, _ := time.Parse(DateLayout, m.StartDate)
	days := m.Days
	if days == 0 && m.EndDate != "" {
		if end, err := time.Parse(DateLayout, m.EndDate); err == nil {
			days = int(end.Sub(start).Hours()/24) + 1
		}
	}
	return start, days
}

// Dates returns the horizon's dates in order.
func (m *Model) Dates() []string {
	start, n := m.Horizon()
	out := make([]string, n)
	for i := range out {
		out[i] = start.AddDate(0, 0, i).Format(DateLayout)
	}
	return out
}

// IntPtr returns a pointer to v, for filling contract limits.
func IntPtr(v int) *int { return &v }
