package schedule

import (
	"reflect"
	"testing"

	"github.com/shiftflow/shiftflow/roster"
)

func TestDiff(t *testing.T) {
	dates := []string{"2026-03-02", "2026-03-03", "2026-03-04"}
	before := roster.Roster{"ann": {"D", "", "N"}, "bob": {"", "D", ""}}
	after := roster.Roster{"ann": {"D", "D", ""}, "bob": {"", "D", ""}, "cid": {"N", "", ""}}
	want := []Change{
		{Employee: "ann", Date: "2026-03-03", From: "", To: "D"},
		{Employee: "ann", Date: "2026-03-04", From: "N", To: ""},
		{Employee: "cid", Date: "2026-03-02", From: "", To: "N"},
	}
	if got := Diff(before, after, dates); !reflect.DeepEqual(got, want) {
		t.Fatalf("Diff = %+v\nwant %+v", got, want)
	}
	if got := Diff(before, before, dates); len(got) != 0 {
		t.Fatalf("no change gave %v", got)
	}
}
