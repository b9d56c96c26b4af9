package api

import (
	"fmt"
	"testing"
)

func TestPeopleDirectory(t *testing.T) {
	h := newHarness(t)
	key, _ := h.createKey("acme", ScopeSchedule)
	// PUT creates, then updates.
	if r := h.do("PUT", "/api/v1/people/boss", key, map[string]any{"name": "Boss", "department": "ops", "department_head": true}); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := h.do("PUT", "/api/v1/people/boss", key, map[string]any{"name": "The Boss", "department": "ops", "department_head": true}); r.status != 200 || r.json(t)["name"] != "The Boss" {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	// Field-level validation, all problems at once.
	p := assertProblem(t, h.do("PUT", "/api/v1/people/x1", key, map[string]any{"name": "", "manager": "x1", "department_head": true,
		"roles": []string{"a", "a"}, "contract": map[string]any{"min_minutes": 900, "max_minutes": 100, "max_weekends": -1}}), 422)
	fields := map[string]bool{}
	for _, fe := range p["errors"].([]any) {
		fields[fe.(map[string]any)["field"].(string)] = true
	}
	for _, f := range []string{"name", "manager", "department_head", "roles[1]", "contract.min_minutes", "contract.max_weekends"} {
		if !fields[f] {
			t.Errorf("422 does not name %s: %v", f, p["errors"])
		}
	}
	assertProblem(t, h.do("PUT", "/api/v1/people/x2", key, map[string]any{"name": "X", "contract": map[string]any{"max_hours": 3}}), 422)
	// Managers must exist, in the directory or the batch, and form no loop.
	assertProblem(t, h.do("PUT", "/api/v1/people/x3", key, map[string]any{"name": "X", "manager": "ghost"}), 422)
	r := h.do("POST", "/api/v1/people:batch", key, map[string]any{"people": []any{
		map[string]any{"id": "a", "name": "A", "manager": "b"}, map[string]any{"id": "b", "name": "B", "manager": "a"},
	}})
	p = assertProblem(t, r, 422)
	if p["errors"].([]any)[0].(map[string]any)["field"] != "people[0].manager" {
		t.Fatalf("loop: %v", p["errors"])
	}
	var batch []any
	for i := 0; i < 30; i++ {
		batch = append(batch, map[string]any{"id": fmt.Sprintf("p%02d", i), "name": "P", "manager": "boss", "skills": []string{"nurse"}, "department": "ops"})
	}
	r = h.do("POST", "/api/v1/people:batch", key, map[string]any{"people": batch})
	if r.status != 200 || r.json(t)["created"].(float64) != 30 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	// Paging walks everyone once.
	seen, cursor := 0, ""
	for {
		res := h.do("GET", "/api/v1/people?department=ops&limit=7&cursor="+cursor, key, nil).json(t)
		seen += len(res["items"].([]any))
		c, _ := res["next_cursor"].(string)
		if c == "" {
			break
		}
		cursor = c
	}
	if seen != 31 {
		t.Fatalf("paged through %d people, want 31", seen)
	}
	// A manager cannot be deleted while people report to them; others can.
	assertProblem(t, h.do("DELETE", "/api/v1/people/boss", key, nil), 409)
	if r := h.do("DELETE", "/api/v1/people/p00", key, nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	assertProblem(t, h.do("GET", "/api/v1/people/p00", key, nil), 404)
	// Another org sees none of it.
	other, _ := h.createKey("globex", ScopeApproval)
	assertProblem(t, h.do("GET", "/api/v1/people/boss", other, nil), 404)
	// The admin token is not an org key.
	assertProblem(t, h.do("GET", "/api/v1/people", adminToken, nil), 403)
}
