package roster

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// oneEmployee is a model with one employee "e" over days from a Monday,
// shift types D (480 min) and N (600 min, D may not follow it), no cover.
func oneEmployee(days int) *Model {
	return &Model{
		StartDate: "2025-03-03", Days: days,
		ShiftTypes: []ShiftType{
			{ID: "D", LengthMinutes: 480},
			{ID: "N", LengthMinutes: 600, ForbiddenSuccessors: []string{"D"}},
		},
		Employees: []Employee{{ID: "e"}},
	}
}

// row parses "DN.D" into a roster row: '.' is a day off.
func row(s string) []string {
	out := make([]string, len(s))
	for i, c := range s {
		if c != '.' {
			out[i] = string(c)
		}
	}
	return out
}

// violationsOf returns the violations of one rule.
func violationsOf(ev *Evaluation, rule string) []Violation {
	var out []Violation
	for _, v := range ev.Violations {
		if v.Rule == rule {
			out = append(out, v)
		}
	}
	return out
}

func TestRulesHard(t *testing.T) {
	cases := []struct {
		name     string
		days     int
		contract Contract
		row      string
		rule     string
		want     [][]int // days of each violation
		amounts  []int
	}{
		// Rotation: adjacent days only, nothing across a day off.
		{"rotation", 7, Contract{}, "ND.N.D.", RuleRotation, [][]int{{0, 1}}, []int{1}},
		{"rotation same shift allowed", 7, Contract{}, "NN.DD..", RuleRotation, nil, nil},
		// Max consecutive: runs touching either edge are still checked.
		{"max run inner", 10, Contract{MaxConsecutiveWork: IntPtr(3)}, ".DDDD.DDD.", RuleMaxConsecutiveWork, [][]int{{1, 2, 3, 4}}, []int{1}},
		{"max run at start", 7, Contract{MaxConsecutiveWork: IntPtr(3)}, "DDDDD..", RuleMaxConsecutiveWork, [][]int{{0, 1, 2, 3, 4}}, []int{2}},
		{"max run at end", 7, Contract{MaxConsecutiveWork: IntPtr(3)}, "...DDDD", RuleMaxConsecutiveWork, [][]int{{3, 4, 5, 6}}, []int{1}},
		// Min consecutive work: runs touching an edge are exempt.
		{"min run inner", 9, Contract{MinConsecutiveWork: IntPtr(3)}, ".D..DD...", RuleMinConsecutiveWork, [][]int{{1}, {4, 5}}, []int{2, 1}},
		{"min run edges exempt", 7, Contract{MinConsecutiveWork: IntPtr(3)}, "D.....D", RuleMinConsecutiveWork, nil, nil},
		// Min consecutive off: edge runs and an all-off row are exempt.
		{"min off inner", 9, Contract{MinConsecutiveOff: IntPtr(2)}, "DD.DD..DD", RuleMinConsecutiveOff, [][]int{{2}}, []int{1}},
		{"min off edges exempt", 7, Contract{MinConsecutiveOff: IntPtr(3)}, ".DDDDD.", RuleMinConsecutiveOff, nil, nil},
		{"min off all off", 7, Contract{MinConsecutiveOff: IntPtr(3)}, ".......", RuleMinConsecutiveOff, nil, nil},
		// Weekends are days 7k+5 and 7k+6 from a Monday, either day counts.
		{"weekends", 21, Contract{MaxWeekends: IntPtr(1)}, ".....D.......DD......", RuleMaxWeekends, [][]int{{5, 12}}, []int{1}},
		{"weekend sunday only", 14, Contract{MaxWeekends: IntPtr(0)}, "......D.......", RuleMaxWeekends, [][]int{{5}}, []int{1}},
		{"weekdays never count", 14, Contract{MaxWeekends: IntPtr(0)}, "DDDDD..DDDDD..", RuleMaxWeekends, nil, nil},
		// Per-type limits.
		{"max per type", 7, Contract{MaxShifts: map[string]int{"N": 1, "D": 7}}, "NN.N...", RuleMaxShiftsPerType, [][]int{nil}, []int{2}},
		{"max per type zero", 7, Contract{MaxShifts: map[string]int{"N": 0}}, "N......", RuleMaxShiftsPerType, [][]int{nil}, []int{1}},
		// Minutes: both bounds inclusive.
		{"max minutes", 7, Contract{MaxMinutes: IntPtr(1000)}, "DDN....", RuleMaxMinutes, [][]int{nil}, []int{560}},
		{"max minutes exact", 7, Contract{MaxMinutes: IntPtr(1560)}, "DDN....", RuleMaxMinutes, nil, nil},
		{"min minutes", 7, Contract{MinMinutes: IntPtr(1000)}, "D......", RuleMinMinutes, [][]int{nil}, []int{520}},
		{"min minutes exact", 7, Contract{MinMinutes: IntPtr(480)}, "D......", RuleMinMinutes, nil, nil},
		// Weekly minutes: the minimum applies to whole weeks only.
		{"max weekly", 10, Contract{MaxWeeklyMinutes: IntPtr(1000)}, "DDD....DDD", RuleMaxWeeklyMinutes, [][]int{{0, 1, 2, 3, 4, 5, 6}, {7, 8, 9}}, []int{440, 440}},
		{"min weekly whole weeks", 10, Contract{MinWeeklyMinutes: IntPtr(1000)}, "D..........."[:10], RuleMinWeeklyMinutes, [][]int{{0, 1, 2, 3, 4, 5, 6}}, []int{520}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := oneEmployee(tc.days)
			m.Employees[0].Contract = tc.contract
			ev := mustEvaluate(t, m, Roster{"e": row(tc.row)})
			got := violationsOf(ev, tc.rule)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d violations %+v, want %d", len(got), got, len(tc.want))
			}
			for i, v := range got {
				if !v.Hard || v.Employee != "e" || v.Amount != tc.amounts[i] || !reflect.DeepEqual(v.Days, tc.want[i]) {
					t.Errorf("violation %d = %+v, want days %v amount %d", i, v, tc.want[i], tc.amounts[i])
				}
			}
			if ev.Feasible != (len(tc.want) == 0) || ev.HardViolations != len(tc.want) || ev.Penalty != 0 {
				t.Errorf("feasible %v hard %d penalty %d", ev.Feasible, ev.HardViolations, ev.Penalty)
			}
		})
	}
}

func TestRulesSoftWeights(t *testing.T) {
	m := oneEmployee(7)
	m.Employees[0].Contract = Contract{MaxConsecutiveWork: IntPtr(2), MinMinutes: IntPtr(4000)}
	m.Rules.MaxConsecutiveWork = &Rule{Weight: 30}
	m.Rules.MinMinutes = &Rule{Weight: 7}
	ev := mustEvaluate(t, m, Roster{"e": row("DDDD...")})
	// 2 days over the run limit; 4000-1920 = 2080 minutes short = 35 started hours.
	if !ev.Feasible || ev.Penalty != 2*30+35*7 {
		t.Fatalf("feasible %v penalty %d, want %d", ev.Feasible, ev.Penalty, 2*30+35*7)
	}
	if ev.Breakdown.ByConstraint[RuleMaxConsecutiveWork] != 60 || ev.Breakdown.ByEmployee["e"] != ev.Penalty ||
		ev.Breakdown.ByDay["2025-03-03"] != 60 {
		t.Fatalf("breakdown %+v", ev.Breakdown)
	}
}

func TestCellRules(t *testing.T) {
	m := oneEmployee(7)
	m.Employees = append(m.Employees, Employee{ID: "f", Skills: []string{"senior"}})
	m.Employees[0].FixedDaysOff = []string{"2025-03-04"}
	m.ShiftTypes[1].RequiredSkills = []string{"senior"}
	m.Pinned = []Assignment{{Employee: "f", Date: "2025-03-05", Shift: "D"}, {Employee: "f", Date: "2025-03-06", Shift: ""}}
	r := Roster{"e": row(".DN...."), "f": row("...D...")}
	ev := mustEvaluate(t, m, r)
	if v := violationsOf(ev, RuleFixedDaysOff); len(v) != 1 || !reflect.DeepEqual(v[0].Dates, []string{"2025-03-04"}) {
		t.Errorf("fixed days off %+v", v)
	}
	if v := violationsOf(ev, RuleSkills); len(v) != 1 || v[0].Skill != "senior" || v[0].Days[0] != 2 {
		t.Errorf("skills %+v", v)
	}
	// f is pinned to D on day 2 (off instead) and off on day 3 (works D).
	if v := violationsOf(ev, RulePinned); len(v) != 2 {
		t.Errorf("pins %+v", v)
	}
	if ev.Feasible {
		t.Error("hard cell rules broken but feasible")
	}
}

func TestRequestsAndCover(t *testing.T) {
	m := oneEmployee(3)
	m.Employees = append(m.Employees, Employee{ID: "f", Skills: []string{"senior"}})
	m.Requests = []Request{
		{Employee: "e", Date: "2025-03-03", Shift: "D", Kind: RequestOn, Weight: 2},  // works N: unmet
		{Employee: "e", Date: "2025-03-04", Shift: "D", Kind: RequestOff, Weight: 3}, // works N: met
		{Employee: "e", Date: "2025-03-05", Kind: RequestOn, Weight: 5},              // off: unmet
		{Employee: "f", Date: "2025-03-03", Kind: RequestOff, Weight: 1},             // works: unmet
		{Employee: "f", Date: "2025-03-04", Shift: "D", Kind: RequestOff, Weight: 4}, // works D: unmet
	}
	m.Cover = []Cover{
		{Date: "2025-03-03", Shift: "D", Requirement: 2, UnderWeight: 100, OverWeight: 1},
		{Date: "2025-03-04", Shift: "D", Requirement: 0, UnderWeight: 100, OverWeight: 1},
		{Date: "2025-03-04", Shift: "D", Skill: "senior", Requirement: 2, UnderWeight: 30, OverWeight: 0},
	}
	r := Roster{"e": row("NN."), "f": row("DD.")}
	ev := mustEvaluate(t, m, r)
	want := map[string]int64{TermRequestOn: 7, TermRequestOff: 5, TermCoverUnder: 100 + 30, TermCoverOver: 1}
	if !reflect.DeepEqual(ev.Breakdown.ByConstraint, want) {
		t.Fatalf("by constraint %v, want %v", ev.Breakdown.ByConstraint, want)
	}
	if ev.Penalty != 143 || !ev.Feasible {
		t.Fatalf("penalty %d feasible %v", ev.Penalty, ev.Feasible)
	}
	// Cover is per day, not per employee.
	if ev.Breakdown.ByEmployee["e"] != 7 || ev.Breakdown.ByEmployee["f"] != 5 || ev.Breakdown.ByDay["2025-03-04"] != 4+31 {
		t.Fatalf("breakdown %+v", ev.Breakdown)
	}
}

func TestPreviousAndFairness(t *testing.T) {
	m := oneEmployee(7)
	m.Employees = append(m.Employees, Employee{ID: "f"})
	m.Previous = &Previous{ChangeWeight: 5, Roster: Roster{"e": row("DD.....")}}
	m.Fairness = &Fairness{MinutesWeight: 6, WeekendsWeight: 10}
	r := Roster{"e": row("D.D...."), "f": row("DDDD.D.")}
	ev := mustEvaluate(t, m, r)
	// Two changed days for e; spread of 5*480-2*480 = 1440 minutes (24 h
	// at 6 per hour) and 1 weekend (10).
	if ev.Breakdown.ByConstraint[TermChange] != 10 || ev.Breakdown.ByConstraint[TermFairness] != 24*6+10 {
		t.Fatalf("breakdown %v", ev.Breakdown.ByConstraint)
	}
}

func TestEvaluateRejectsBadRosters(t *testing.T) {
	m := oneEmployee(3)
	cases := map[string]Roster{
		"roster.e: missing row":               {},
		"roster.e: has 2 days":                {"e": row("DD")},
		`roster.e[1]: unknown shift type "X"`: {"e": {"", "X", ""}},
		"roster.zz: unknown employee zz":      {"e": row("..."), "zz": row("...")},
	}
	for want, r := range cases {
		_, err := Evaluate(m, r)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}

// The breakdown always adds up to the penalty, and hard violations are
// never priced.
func TestBreakdownSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 200; i++ {
		m := randomModel(rng)
		ev := mustEvaluate(t, m, randomRoster(rng, m))
		var sum, byEmp, byDay, listed int64
		for _, v := range ev.Breakdown.ByConstraint {
			sum += v
		}
		for _, v := range ev.Violations {
			listed += v.Penalty
			if v.Hard && v.Penalty != 0 {
				t.Fatalf("hard violation priced: %+v", v)
			}
			if v.Employee != "" {
				byEmp += v.Penalty
			}
		}
		for _, v := range ev.Breakdown.ByDay {
			byDay += v
		}
		if sum != ev.Penalty || listed != ev.Penalty || byDay > ev.Penalty {
			t.Fatalf("model %d: penalty %d, by constraint %d, listed %d, by day %d", i, ev.Penalty, sum, listed, byDay)
		}
		var empSum int64
		for _, v := range ev.Breakdown.ByEmployee {
			empSum += v
		}
		if empSum != byEmp {
			t.Fatalf("by employee %d, violations with an employee %d", empSum, byEmp)
		}
	}
}
