package api

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// readmeBlock is the shell block that follows marker in the README.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, marker+"\n```sh\n")
	if i < 0 {
		t.Fatalf("README: no %q followed by a sh block", marker)
	}
	s = s[i+len(marker)+len("\n```sh\n"):]
	j := strings.Index(s, "\n```")
	if j < 0 {
		t.Fatal("README: the walkthrough block is not closed")
	}
	return s[:j]
}

// TestREADMEWalkthrough runs the README's walkthrough as a user pastes it,
// against the whole stack (HTTP, JetStream, the approval, solver and
// re-plan workers, PostgreSQL), stopping at the first failed call, and then
// checks its outcome through the API: the leave was approved and the
// re-plan, published in place of the week, gives the requester those days
// off.
func TestREADMEWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walkthrough needs %s: %v", tool, err)
		}
	}
	block := readmeBlock(t, "<!-- walkthrough -->")
	e := newE2E(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", block)
	cmd.Env = append(os.Environ(), "SF="+e.srv.URL, "KEY="+e.key)
	out, err := cmd.CombinedOutput()
	t.Logf("walkthrough output:\n%s", out)
	if err != nil {
		t.Fatalf("walkthrough: %v", err)
	}

	items := e.do("GET", "/api/v1/approvals?template_id=leave", e.key, nil).json(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("%d leave approvals, want 1", len(items))
	}
	leave := e.get(items[0].(map[string]any)["id"].(string))
	if leave["status"] != "approved" || leave["initiator"] != "ben" {
		t.Fatalf("leave: %v", leave)
	}
	form := leave["form"].(map[string]any)
	from, to := form["from_date"].(string), form["to_date"].(string)
	replans := e.do("GET", "/api/v1/schedules?approval_id="+leave["id"].(string), e.key, nil).json(t)["items"].([]any)
	if len(replans) != 1 {
		t.Fatalf("%d re-plans, want 1", len(replans))
	}
	replan := replans[0].(map[string]any)
	if replan["published"] != true || replan["feasible"] != true {
		t.Fatalf("re-plan: %v", replan)
	}
	var got struct {
		Dates  []string            `json:"dates"`
		Roster map[string][]string `json:"roster"`
	}
	if err := json.Unmarshal(e.do("GET", "/api/v1/schedules/"+replan["id"].(string)+"/roster", e.key, nil).body, &got); err != nil {
		t.Fatal(err)
	}
	off := 0
	for d, date := range got.Dates {
		if date >= from && date <= to {
			if got.Roster["ben"][d] != "" {
				t.Fatalf("ben works %s during the leave %s..%s: %v", date, from, to, got.Roster["ben"])
			}
			off++
		}
	}
	if off < 2 {
		t.Fatalf("leave %s..%s covers %d roster days, want at least 2", from, to, off)
	}
	// The re-plan fills the shifts the leave freed: every early and late
	// shift of the week still has someone.
	for d, date := range got.Dates {
		for _, shift := range []string{"E", "L"} {
			n := 0
			for _, row := range got.Roster {
				if row[d] == shift {
					n++
				}
			}
			if n == 0 {
				t.Fatalf("nobody works %s on %s in the re-plan: %v", shift, date, got.Roster)
			}
		}
	}
	if !strings.Contains(string(out), `"status":409`) {
		t.Fatal("the walkthrough's second approval was not refused with 409")
	}
}
