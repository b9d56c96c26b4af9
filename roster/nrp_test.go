package roster

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// tinyNRP follows FORMAT.md: comment lines, trailing commas, a forbidden
// list naming a later shift and the shift itself, and an employee whose id
// equals a shift id.
const tinyNRP = `# A tiny instance
SECTION_HORIZON
# horizon length in days:
14

SECTION_SHIFTS
# ShiftID, Length in mins, Shifts which cannot follow this shift | separated
D,480,
L,600,D|L|N
N,720,D

SECTION_STAFF
# ID, MaxShifts, MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, MinConsecutiveShifts, MinConsecutiveDaysOff, MaxWeekends
D,D=14|L=3|N=0,4800,2400,5,2,2,1
A,D=14|L=14|N=14,5000,0,4,1,1,2

SECTION_DAYS_OFF
# EmployeeID, DayIndexes (start at zero)
D,0,6
A,13

SECTION_SHIFT_ON_REQUESTS
# EmployeeID, Day, ShiftID, Weight
D,2,D,2
A,5,N,3

SECTION_SHIFT_OFF_REQUESTS
# EmployeeID, Day, ShiftID, Weight
A,3,L,1

SECTION_COVER
# Day, ShiftID, Requirement, Weight for under, Weight for over
0,D,1,100,1
0,L,0,100,1
0,N,1,100,1
`

func TestParseNRP(t *testing.T) {
	in, err := ParseNRP("tiny", []byte(tinyNRP))
	if err != nil {
		t.Fatal(err)
	}
	if in.Horizon != 14 || len(in.Shifts) != 3 || len(in.Staff) != 2 {
		t.Fatalf("horizon %d shifts %d staff %d", in.Horizon, len(in.Shifts), len(in.Staff))
	}
	if in.Shifts[0].Forbidden != nil {
		t.Errorf("trailing comma must give no forbidden shifts, got %q", in.Shifts[0].Forbidden)
	}
	if got := in.Shifts[1].Forbidden; !reflect.DeepEqual(got, []string{"D", "L", "N"}) {
		t.Errorf("L forbids %q", got)
	}
	d := in.Staff[0]
	if d.ID != "D" || d.MaxTotalMinutes != 4800 || d.MinTotalMinutes != 2400 || d.MaxConsecutiveShifts != 5 ||
		d.MinConsecutiveShifts != 2 || d.MinConsecutiveDaysOff != 2 || d.MaxWeekends != 1 {
		t.Errorf("staff D = %+v", d)
	}
	if want := []NRPLimit{{"D", 14}, {"L", 3}, {"N", 0}}; !reflect.DeepEqual(d.MaxShifts, want) {
		t.Errorf("max shifts %+v", d.MaxShifts)
	}
	if !reflect.DeepEqual(in.DaysOff["D"], []int{0, 6}) {
		t.Errorf("days off %v", in.DaysOff)
	}
	if len(in.OnRequests) != 2 || in.OffRequests[0] != (NRPRequest{"A", 3, "L", 1}) {
		t.Errorf("requests %+v %+v", in.OnRequests, in.OffRequests)
	}
	if len(in.Cover) != 3 || in.Cover[2] != (NRPCover{0, "N", 1, 100, 1}) {
		t.Errorf("cover %+v", in.Cover)
	}

	// Round trip through the writer.
	again, err := ParseNRP("tiny", in.Format())
	if err != nil {
		t.Fatalf("re-reading the written file: %v", err)
	}
	if !reflect.DeepEqual(in, again) {
		t.Errorf("round trip differs:\n%+v\n%+v", in, again)
	}
}

func TestNRPModel(t *testing.T) {
	in, err := ParseNRP("tiny", []byte(tinyNRP))
	if err != nil {
		t.Fatal(err)
	}
	m := in.Model()
	mustValid(t, m)
	if m.StartDate != "2014-01-06" || m.Days != 14 {
		t.Fatalf("horizon %s + %d", m.StartDate, m.Days)
	}
	// Employee "D" and shift "D" live in separate namespaces.
	if m.Employees[0].ID != "D" || m.ShiftTypes[0].ID != "D" {
		t.Fatal("ids")
	}
	c := m.Employees[0].Contract
	if *c.MaxMinutes != 4800 || *c.MinMinutes != 2400 || c.MaxShifts["N"] != 0 || *c.MaxWeekends != 1 {
		t.Errorf("contract %+v", c)
	}
	if !reflect.DeepEqual(m.Employees[0].FixedDaysOff, []string{"2014-01-06", "2014-01-12"}) {
		t.Errorf("fixed days off %v", m.Employees[0].FixedDaysOff)
	}
	// Weekends are days 7k+5 and 7k+6.
	start, H := m.Horizon()
	if got := weekendsOf(start, H); !reflect.DeepEqual(got, [][]int{{5, 6}, {12, 13}}) {
		t.Errorf("weekends %v", got)
	}
	if m.Requests[2] != (Request{Employee: "A", Date: "2014-01-09", Shift: "L", Kind: RequestOff, Weight: 1}) {
		t.Errorf("off request %+v", m.Requests[2])
	}
}

func TestParseNRPErrors(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(tinyNRP, old, new, 1) }
	cases := []struct {
		name   string
		text   string
		line   int
		reason string
	}{
		{"horizon not a number", replace("\n14\n", "\nfourteen\n"), 4, "not an integer"},
		{"horizon zero", replace("\n14\n", "\n0\n"), 4, "out of range"},
		{"unknown section", replace("SECTION_COVER", "SECTION_COVERS"), 31, "unknown section"},
		{"shift fields", replace("D,480,", "D"), 8, "comma-separated fields"},
		{"shift length", replace("D,480,", "D,-5,"), 8, "out of range"},
		{"forbids unknown", replace("N,720,D", "N,720,X"), 10, `unknown shift "X"`},
		{"duplicate shift", replace("N,720,D", "D,720,"), 10, "defined twice"},
		{"staff fields", replace("A,D=14|L=14|N=14,5000,0,4,1,1,2", "A,D=14,5000"), 15, "want 8"},
		{"max shifts pair", replace("D=14|L=3|N=0", "D14"), 14, "ShiftID=limit"},
		{"max shifts unknown", replace("D=14|L=3|N=0", "D=14|Q=3"), 14, `unknown shift "Q"`},
		{"min above max", replace("5000,0,4,1", "5000,6000,4,1"), 15, "exceeds MaxTotalMinutes"},
		{"day off outside", replace("A,13", "A,14"), 20, "outside the horizon"},
		{"days off unknown employee", replace("A,13", "Z,13"), 20, "unknown employee"},
		{"request unknown shift", replace("D,2,D,2", "D,2,X,2"), 24, `unknown shift "X"`},
		{"request day", replace("D,2,D,2", "D,99,D,2"), 24, "outside the horizon"},
		{"cover duplicate", replace("0,N,1,100,1", "0,D,1,100,1"), 35, "repeats line 33"},
		{"cover shift", replace("0,N,1,100,1", "0,Z,1,100,1"), 35, "unknown shift"},
		{"data outside section", replace("SECTION_STAFF\n", "SECTION_STAFF\n\nA,1\n"), 14, "outside a section"},
		{"missing staff", replace("SECTION_STAFF", "SECTION_NOPE"), 12, "unknown section"},
		{"duplicate section", tinyNRP + "\nSECTION_COVER\n1,D,1,100,1\n", 37, "appears twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseNRP("x", []byte(tc.text))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want a ParseError, got %v", err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Reason, tc.reason) {
				t.Fatalf("got line %d %q, want line %d containing %q", pe.Line, pe.Reason, tc.line, tc.reason)
			}
		})
	}
	if _, err := ParseNRP("x", []byte("SECTION_HORIZON\n7\n")); err == nil || !strings.Contains(err.Error(), "missing section SECTION_SHIFTS") {
		t.Fatalf("missing sections: %v", err)
	}
}

// FuzzParseNRP checks the reader never panics, and that whatever it
// accepts converts to a valid model and survives a write/read round trip.
func FuzzParseNRP(f *testing.F) {
	f.Add([]byte(tinyNRP))
	f.Add([]byte("SECTION_HORIZON\n7\n\nSECTION_SHIFTS\nD,480,D\n\nSECTION_STAFF\nA,,480,0,1,1,1,0\n"))
	f.Add([]byte("SECTION_HORIZON\n1\n\nSECTION_SHIFTS\na,1,\n\nSECTION_STAFF\nb,a=1,1,1,1,1,1,1\n\nSECTION_COVER\n0,a,1,1,1\n"))
	f.Add([]byte("# only a comment\n"))
	f.Add([]byte("SECTION_HORIZON\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseNRP("fuzz", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 0 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		if errs := in.Model().Validate(); len(errs) > 0 {
			t.Fatalf("accepted instance gives an invalid model: %v", ValidationError(errs))
		}
		again, err := ParseNRP("fuzz", in.Format())
		if err != nil {
			t.Fatalf("written instance does not read back: %v", err)
		}
		if !reflect.DeepEqual(in, again) {
			t.Fatalf("round trip differs")
		}
	})
}
