package roster

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// NRPStartDate is the Monday the Curtois & Qu instances start on.
const NRPStartDate = "2014-01-06"

// NRPInstance is a file of the Curtois & Qu (2014) nurse rostering benchmark
// as written, with indexes instead of dates. Convert it with Model.
type NRPInstance struct {
	Name        string
	Horizon     int
	Shifts      []NRPShift
	Staff       []NRPStaff
	DaysOff     map[string][]int
	OnRequests  []NRPRequest
	OffRequests []NRPRequest
	Cover       []NRPCover
}

// NRPShift is a SECTION_SHIFTS line.
type NRPShift struct {
	ID            string
	LengthMinutes int
	Forbidden     []string
}

// NRPStaff is a SECTION_STAFF line. MaxShifts keeps the file's order.
type NRPStaff struct {
	ID                    string
	MaxShifts             []NRPLimit
	MaxTotalMinutes       int
	MinTotalMinutes       int
	MaxConsecutiveShifts  int
	MinConsecutiveShifts  int
	MinConsecutiveDaysOff int
	MaxWeekends           int
}

// NRPLimit is one ShiftID=limit pair.
type NRPLimit struct {
	Shift string
	Limit int
}

// NRPRequest is a shift on or off request line.
type NRPRequest struct {
	Employee string
	Day      int
	Shift    string
	Weight   int
}

// NRPCover is a SECTION_COVER line.
type NRPCover struct {
	Day         int
	Shift       string
	Requirement int
	UnderWeight int
	OverWeight  int
}

// ParseError is a bad line of an NRP file.
type ParseError struct {
	Line   int
	Reason string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

const nrpMaxNumber = maxLimit

var nrpSections = []string{
	"SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF", "SECTION_DAYS_OFF",
	"SECTION_SHIFT_ON_REQUESTS", "SECTION_SHIFT_OFF_REQUESTS", "SECTION_COVER",
}

type nrpParser struct {
	inst *NRPInstance
	line int
	// line numbers of items, for reference errors found after reading
	shiftLines, staffLines, onLines, offLines, coverLines []int
	daysOffLines                                          map[string]int
	horizonLine                                           int
}

func (p *nrpParser) fail(format string, args ...any) error {
	return &ParseError{Line: p.line, Reason: fmt.Sprintf(format, args...)}
}

func (p *nrpParser) number(field, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, p.fail("%s %q is not an integer", field, s)
	}
	if n < 0 || n > nrpMaxNumber {
		return 0, p.fail("%s %d is out of range 0..%d", field, n, nrpMaxNumber)
	}
	return n, nil
}

func (p *nrpParser) fields(line string, min, max int) ([]string, error) {
	f := strings.Split(line, ",")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	if len(f) < min || (max > 0 && len(f) > max) {
		if min == max {
			return nil, p.fail("want %d comma-separated fields, got %d", min, len(f))
		}
		return nil, p.fail("want %d to %d comma-separated fields, got %d", min, max, len(f))
	}
	return f, nil
}

func validID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == ',' || r == '|' || r == '=' || r == '#' || r > '~' {
			return false
		}
	}
	return true
}

func (p *nrpParser) id(field, s string) (string, error) {
	if !validID(s) {
		return "", p.fail("%s %q is not a valid id", field, s)
	}
	return s, nil
}

// ParseNRP reads an instance in the Curtois & Qu text format. Errors name
// the line and the reason; references to unknown shifts or staff, days
// outside the horizon and duplicate definitions are errors too.
func ParseNRP(name string, data []byte) (*NRPInstance, error) {
	p := &nrpParser{inst: &NRPInstance{Name: name, DaysOff: map[string][]int{}}, daysOffLines: map[string]int{}}
	seen := map[string]bool{}
	section := ""
	lines := bytes.Split(data, []byte("\n"))
	for i, raw := range lines {
		p.line = i + 1
		line := strings.TrimSpace(strings.TrimSuffix(string(raw), "\r"))
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			section = ""
			continue
		}
		if strings.HasPrefix(line, "SECTION_") {
			known := false
			for _, s := range nrpSections {
				known = known || s == line
			}
			if !known {
				return nil, p.fail("unknown section %q", line)
			}
			if seen[line] {
				return nil, p.fail("section %s appears twice", line)
			}
			if section != "" {
				return nil, p.fail("section %s starts before %s ended with an empty line", line, section)
			}
			seen[line] = true
			section = line
			continue
		}
		if err := p.dataLine(section, line); err != nil {
			return nil, err
		}
	}
	p.line = len(lines)
	for _, s := range nrpSections[:3] {
		if !seen[s] {
			return nil, p.fail("missing section %s", s)
		}
	}
	if p.inst.Horizon == 0 {
		p.line = p.horizonLine
		return nil, p.fail("SECTION_HORIZON has no horizon length")
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	return p.inst, nil
}

func (p *nrpParser) dataLine(section, line string) error {
	in := p.inst
	switch section {
	case "":
		return p.fail("data outside a section: %q", truncate(line))
	case "SECTION_HORIZON":
		if in.Horizon != 0 {
			return p.fail("SECTION_HORIZON has more than one line")
		}
		h, err := p.number("horizon", line)
		if err != nil {
			return err
		}
		if h < 1 || h > MaxDays {
			return p.fail("horizon %d is out of range 1..%d", h, MaxDays)
		}
		in.Horizon, p.horizonLine = h, p.line
	case "SECTION_SHIFTS":
		f, err := p.fields(line, 2, 3)
		if err != nil {
			return err
		}
		id, err := p.id("shift id", f[0])
		if err != nil {
			return err
		}
		length, err := p.number("shift length", f[1])
		if err != nil {
			return err
		}
		if length < 1 || length > 24*60 {
			return p.fail("shift length %d is out of range 1..1440", length)
		}
		var forbidden []string
		if len(f) == 3 && f[2] != "" {
			for _, s := range strings.Split(f[2], "|") {
				s, err := p.id("forbidden shift id", strings.TrimSpace(s))
				if err != nil {
					return err
				}
				forbidden = append(forbidden, s)
			}
		}
		if len(in.Shifts) >= MaxShiftTypes {
			return p.fail("more than %d shift types", MaxShiftTypes)
		}
		in.Shifts = append(in.Shifts, NRPShift{ID: id, LengthMinutes: length, Forbidden: forbidden})
		p.shiftLines = append(p.shiftLines, p.line)
	case "SECTION_STAFF":
		f, err := p.fields(line, 8, 8)
		if err != nil {
			return err
		}
		st := NRPStaff{}
		if st.ID, err = p.id("employee id", f[0]); err != nil {
			return err
		}
		if f[1] != "" {
			for _, pair := range strings.Split(f[1], "|") {
				k, val, ok := strings.Cut(pair, "=")
				if !ok {
					return p.fail("max shifts entry %q is not ShiftID=limit", pair)
				}
				sid, err := p.id("shift id", strings.TrimSpace(k))
				if err != nil {
					return err
				}
				lim, err := p.number("max shifts of "+sid, strings.TrimSpace(val))
				if err != nil {
					return err
				}
				for _, l := range st.MaxShifts {
					if l.Shift == sid {
						return p.fail("max shifts lists shift %q twice", sid)
					}
				}
				st.MaxShifts = append(st.MaxShifts, NRPLimit{Shift: sid, Limit: lim})
			}
		}
		nums := []*int{&st.MaxTotalMinutes, &st.MinTotalMinutes, &st.MaxConsecutiveShifts,
			&st.MinConsecutiveShifts, &st.MinConsecutiveDaysOff, &st.MaxWeekends}
		names := []string{"MaxTotalMinutes", "MinTotalMinutes", "MaxConsecutiveShifts",
			"MinConsecutiveShifts", "MinConsecutiveDaysOff", "MaxWeekends"}
		for j, ptr := range nums {
			if *ptr, err = p.number(names[j], f[2+j]); err != nil {
				return err
			}
		}
		if st.MinTotalMinutes > st.MaxTotalMinutes {
			return p.fail("MinTotalMinutes %d exceeds MaxTotalMinutes %d", st.MinTotalMinutes, st.MaxTotalMinutes)
		}
		if st.MaxConsecutiveShifts < 1 {
			return p.fail("MaxConsecutiveShifts must be at least 1")
		}
		if st.MinConsecutiveShifts > st.MaxConsecutiveShifts {
			return p.fail("MinConsecutiveShifts %d exceeds MaxConsecutiveShifts %d", st.MinConsecutiveShifts, st.MaxConsecutiveShifts)
		}
		in.Staff = append(in.Staff, st)
		p.staffLines = append(p.staffLines, p.line)
	case "SECTION_DAYS_OFF":
		f := strings.Split(line, ",")
		id, err := p.id("employee id", strings.TrimSpace(f[0]))
		if err != nil {
			return err
		}
		if _, dup := p.daysOffLines[id]; dup {
			return p.fail("days off of %q listed twice", id)
		}
		days := []int{}
		for j, s := range f[1:] {
			s = strings.TrimSpace(s)
			if s == "" && j == len(f)-2 {
				break // trailing comma
			}
			d, err := p.number("day", s)
			if err != nil {
				return err
			}
			days = append(days, d)
		}
		in.DaysOff[id] = days
		p.daysOffLines[id] = p.line
	case "SECTION_SHIFT_ON_REQUESTS", "SECTION_SHIFT_OFF_REQUESTS":
		f, err := p.fields(line, 4, 4)
		if err != nil {
			return err
		}
		r := NRPRequest{}
		if r.Employee, err = p.id("employee id", f[0]); err != nil {
			return err
		}
		if r.Day, err = p.number("day", f[1]); err != nil {
			return err
		}
		if r.Shift, err = p.id("shift id", f[2]); err != nil {
			return err
		}
		if r.Weight, err = p.number("weight", f[3]); err != nil {
			return err
		}
		if r.Weight > MaxWeight {
			return p.fail("weight %d exceeds %d", r.Weight, MaxWeight)
		}
		if section == "SECTION_SHIFT_ON_REQUESTS" {
			in.OnRequests = append(in.OnRequests, r)
			p.onLines = append(p.onLines, p.line)
		} else {
			in.OffRequests = append(in.OffRequests, r)
			p.offLines = append(p.offLines, p.line)
		}
	case "SECTION_COVER":
		f, err := p.fields(line, 5, 5)
		if err != nil {
			return err
		}
		c := NRPCover{}
		if c.Day, err = p.number("day", f[0]); err != nil {
			return err
		}
		if c.Shift, err = p.id("shift id", f[1]); err != nil {
			return err
		}
		if c.Requirement, err = p.number("requirement", f[2]); err != nil {
			return err
		}
		if c.UnderWeight, err = p.number("under weight", f[3]); err != nil {
			return err
		}
		if c.OverWeight, err = p.number("over weight", f[4]); err != nil {
			return err
		}
		if c.Requirement > 1_000_000 || c.UnderWeight > MaxWeight || c.OverWeight > MaxWeight {
			return p.fail("requirement or weight out of range")
		}
		in.Cover = append(in.Cover, c)
		p.coverLines = append(p.coverLines, p.line)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// resolve checks cross references once every section is read.
func (p *nrpParser) resolve() error {
	in := p.inst
	shifts := map[string]bool{}
	for i, s := range in.Shifts {
		p.line = p.shiftLines[i]
		if shifts[s.ID] {
			return p.fail("shift %q defined twice", s.ID)
		}
		shifts[s.ID] = true
	}
	if len(in.Shifts) == 0 {
		return &ParseError{Line: p.horizonLine, Reason: "SECTION_SHIFTS defines no shift type"}
	}
	for i, s := range in.Shifts {
		p.line = p.shiftLines[i]
		for _, f := range s.Forbidden {
			if !shifts[f] {
				return p.fail("shift %q forbids unknown shift %q", s.ID, f)
			}
		}
	}
	staff := map[string]bool{}
	for i, st := range in.Staff {
		p.line = p.staffLines[i]
		if staff[st.ID] {
			return p.fail("employee %q defined twice", st.ID)
		}
		staff[st.ID] = true
		for _, l := range st.MaxShifts {
			if !shifts[l.Shift] {
				return p.fail("employee %q limits unknown shift %q", st.ID, l.Shift)
			}
		}
	}
	if len(in.Staff) == 0 {
		return &ParseError{Line: p.horizonLine, Reason: "SECTION_STAFF defines no employee"}
	}
	ids := make([]string, 0, len(in.DaysOff))
	for id := range in.DaysOff {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p.line = p.daysOffLines[id]
		if !staff[id] {
			return p.fail("days off for unknown employee %q", id)
		}
		for _, d := range in.DaysOff[id] {
			if d >= in.Horizon {
				return p.fail("day %d is outside the horizon 0..%d", d, in.Horizon-1)
			}
		}
	}
	check := func(reqs []NRPRequest, lines []int) error {
		for i, r := range reqs {
			p.line = lines[i]
			if !staff[r.Employee] {
				return p.fail("request for unknown employee %q", r.Employee)
			}
			if r.Day >= in.Horizon {
				return p.fail("day %d is outside the horizon 0..%d", r.Day, in.Horizon-1)
			}
			if !shifts[r.Shift] {
				return p.fail("request for unknown shift %q", r.Shift)
			}
		}
		return nil
	}
	if err := check(in.OnRequests, p.onLines); err != nil {
		return err
	}
	if err := check(in.OffRequests, p.offLines); err != nil {
		return err
	}
	type dayShift struct {
		day   int
		shift string
	}
	seen := map[dayShift]int{}
	for i, c := range in.Cover {
		p.line = p.coverLines[i]
		if c.Day >= in.Horizon {
			return p.fail("day %d is outside the horizon 0..%d", c.Day, in.Horizon-1)
		}
		if !shifts[c.Shift] {
			return p.fail("cover for unknown shift %q", c.Shift)
		}
		k := dayShift{c.Day, c.Shift}
		if prev, dup := seen[k]; dup {
			return p.fail("cover for day %d shift %q repeats line %d", c.Day, c.Shift, prev)
		}
		seen[k] = p.line
	}
	return nil
}

// Model converts the instance to the domain model: day 0 is NRPStartDate,
// every contract rule is hard, requests and cover keep their weights.
func (in *NRPInstance) Model() *Model {
	m := &Model{Name: in.Name, StartDate: NRPStartDate, Days: in.Horizon}
	dates := m.Dates()
	for _, s := range in.Shifts {
		m.ShiftTypes = append(m.ShiftTypes, ShiftType{
			ID: s.ID, LengthMinutes: s.LengthMinutes,
			ForbiddenSuccessors: append([]string(nil), s.Forbidden...),
		})
	}
	for _, st := range in.Staff {
		e := Employee{ID: st.ID, Contract: Contract{
			MinMinutes:         IntPtr(st.MinTotalMinutes),
			MaxMinutes:         IntPtr(st.MaxTotalMinutes),
			MaxShifts:          map[string]int{},
			MinConsecutiveWork: IntPtr(st.MinConsecutiveShifts),
			MaxConsecutiveWork: IntPtr(st.MaxConsecutiveShifts),
			MinConsecutiveOff:  IntPtr(st.MinConsecutiveDaysOff),
			MaxWeekends:        IntPtr(st.MaxWeekends),
		}}
		for _, l := range st.MaxShifts {
			e.Contract.MaxShifts[l.Shift] = l.Limit
		}
		for _, d := range in.DaysOff[st.ID] {
			e.FixedDaysOff = append(e.FixedDaysOff, dates[d])
		}
		m.Employees = append(m.Employees, e)
	}
	for _, r := range in.OnRequests {
		m.Requests = append(m.Requests, Request{Employee: r.Employee, Date: dates[r.Day], Shift: r.Shift, Kind: RequestOn, Weight: r.Weight})
	}
	for _, r := range in.OffRequests {
		m.Requests = append(m.Requests, Request{Employee: r.Employee, Date: dates[r.Day], Shift: r.Shift, Kind: RequestOff, Weight: r.Weight})
	}
	for _, c := range in.Cover {
		m.Cover = append(m.Cover, Cover{Date: dates[c.Day], Shift: c.Shift, Requirement: c.Requirement,
			UnderWeight: c.UnderWeight, OverWeight: c.OverWeight})
	}
	return m
}

// Format writes the instance in the NRP text format.
func (in *NRPInstance) Format() []byte {
	var b bytes.Buffer
	b.WriteString("# " + in.Name + "\nSECTION_HORIZON\n# horizon length in days\n")
	fmt.Fprintf(&b, "%d\n\nSECTION_SHIFTS\n# ShiftID, Length in mins, Shifts which cannot follow this shift | separated\n", in.Horizon)
	for _, s := range in.Shifts {
		fmt.Fprintf(&b, "%s,%d,%s\n", s.ID, s.LengthMinutes, strings.Join(s.Forbidden, "|"))
	}
	b.WriteString("\nSECTION_STAFF\n# ID, MaxShifts, MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, MinConsecutiveShifts, MinConsecutiveDaysOff, MaxWeekends\n")
	for _, st := range in.Staff {
		lims := make([]string, len(st.MaxShifts))
		for i, l := range st.MaxShifts {
			lims[i] = fmt.Sprintf("%s=%d", l.Shift, l.Limit)
		}
		fmt.Fprintf(&b, "%s,%s,%d,%d,%d,%d,%d,%d\n", st.ID, strings.Join(lims, "|"), st.MaxTotalMinutes,
			st.MinTotalMinutes, st.MaxConsecutiveShifts, st.MinConsecutiveShifts, st.MinConsecutiveDaysOff, st.MaxWeekends)
	}
	b.WriteString("\nSECTION_DAYS_OFF\n# EmployeeID, DayIndexes (start at zero)\n")
	for _, st := range in.Staff {
		days, ok := in.DaysOff[st.ID]
		if !ok {
			continue
		}
		b.WriteString(st.ID)
		for _, d := range days {
			fmt.Fprintf(&b, ",%d", d)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nSECTION_SHIFT_ON_REQUESTS\n# EmployeeID, Day, ShiftID, Weight\n")
	for _, r := range in.OnRequests {
		fmt.Fprintf(&b, "%s,%d,%s,%d\n", r.Employee, r.Day, r.Shift, r.Weight)
	}
	b.WriteString("\nSECTION_SHIFT_OFF_REQUESTS\n# EmployeeID, Day, ShiftID, Weight\n")
	for _, r := range in.OffRequests {
		fmt.Fprintf(&b, "%s,%d,%s,%d\n", r.Employee, r.Day, r.Shift, r.Weight)
	}
	b.WriteString("\nSECTION_COVER\n# Day, ShiftID, Requirement, Weight for under, Weight for over\n")
	for _, c := range in.Cover {
		fmt.Fprintf(&b, "%d,%s,%d,%d,%d\n", c.Day, c.Shift, c.Requirement, c.UnderWeight, c.OverWeight)
	}
	return b.Bytes()
}
