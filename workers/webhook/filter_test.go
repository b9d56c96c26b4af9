package webhook

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shiftflow/shiftflow/db/dbsqlc"
)

func eps(pairs ...string) []dbsqlc.EnabledEndpointPatternsRow {
	var out []dbsqlc.EnabledEndpointPatternsRow
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, dbsqlc.EnabledEndpointPatternsRow{OrgID: pairs[i], EventTypes: strings.Split(pairs[i+1], ",")})
	}
	return out
}

func TestFilterSubjects(t *testing.T) {
	many := func() []dbsqlc.EnabledEndpointPatternsRow {
		var out []dbsqlc.EnabledEndpointPatternsRow
		for i := 0; i < maxFilterSubjects+1; i++ {
			out = append(out, dbsqlc.EnabledEndpointPatternsRow{OrgID: fmt.Sprintf("org%d", i), EventTypes: []string{"approval.instance.approved"}})
		}
		return out
	}
	cases := []struct {
		name string
		in   []dbsqlc.EnabledEndpointPatternsRow
		want []string
	}{
		{"no endpoint", nil, []string{NoEvents}},
		{"one pattern", eps("acme", "approval.instance.*"), []string{"evt.approval.instance.*.acme"}},
		{"a two-part prefix", eps("acme", "approval.*"), []string{"evt.approval.*.*.acme"}},
		{"everything", eps("acme", "*"), []string{"evt.*.*.*.acme"}},
		{"the same pattern twice", eps("acme", "approval.task.created", "acme", "approval.task.created"), []string{"evt.approval.task.created.acme"}},
		{"covered by another", eps("acme", "approval.task.created", "acme", "approval.*"), []string{"evt.approval.*.*.acme"}},
		{"disjoint", eps("acme", "approval.task.created,schedule.run.completed"), []string{"evt.approval.task.created.acme", "evt.schedule.run.completed.acme"}},
		{"overlapping: the org's events", eps("acme", "approval.*", "acme", "*.task.created"), []string{"evt.*.*.*.acme"}},
		{"orgs apart, sorted", eps("zeta", "approval.*", "acme", "*"), []string{"evt.*.*.*.acme", "evt.approval.*.*.zeta"}},
		{"patterns no type matches", eps("acme", "approval.instance"), []string{NoEvents}},
		{"too many subjects", many(), []string{"evt.>"}},
	}
	for _, tc := range cases {
		if got := FilterSubjects(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// subjectMatches reports whether a five-token event subject matches filter.
func subjectMatches(filter, subject string) bool {
	if filter == "evt.>" {
		return strings.HasPrefix(subject, "evt.")
	}
	return covers(filter, subject)
}

// On random endpoints the filter never overlaps (JetStream would refuse
// it) and lets through every event some endpoint matches.
func TestFilterSubjectsCoverAndDoNotOverlap(t *testing.T) {
	tokens := [][]string{{"approval", "schedule"}, {"instance", "task"}, {"approved", "created"}}
	orgs := []string{"acme", "beta"}
	rng := rand.New(rand.NewPCG(1, 2))
	pattern := func() string {
		n := 1 + rng.IntN(3)
		parts := make([]string, n)
		for i := range parts {
			if rng.IntN(3) == 0 {
				parts[i] = "*"
			} else {
				parts[i] = tokens[i][rng.IntN(2)]
			}
		}
		return strings.Join(parts, ".")
	}
	for round := 0; round < 2000; round++ {
		var in []dbsqlc.EnabledEndpointPatternsRow
		for k := rng.IntN(4); k > 0; k-- {
			var pats []string
			for j := 1 + rng.IntN(3); j > 0; j-- {
				pats = append(pats, pattern())
			}
			in = append(in, dbsqlc.EnabledEndpointPatternsRow{OrgID: orgs[rng.IntN(2)], EventTypes: pats})
		}
		got := FilterSubjects(in)
		if overlapping(got) {
			t.Fatalf("%v: overlapping filter %v", in, got)
		}
		for _, org := range orgs {
			for _, a := range tokens[0] {
				for _, b := range tokens[1] {
					for _, c := range tokens[2] {
						typ := a + "." + b + "." + c
						wanted := false
						for _, ep := range in {
							wanted = wanted || (ep.OrgID == org && Match(ep.EventTypes, typ))
						}
						passes := false
						for _, f := range got {
							passes = passes || subjectMatches(f, "evt."+typ+"."+org)
						}
						if wanted && !passes {
							t.Fatalf("%v: filter %v drops %s of %s", in, got, typ, org)
						}
					}
				}
			}
		}
	}
}
