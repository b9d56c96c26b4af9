package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/shiftflow/shiftflow/db"
	"github.com/shiftflow/shiftflow/db/dbsqlc"
	"github.com/shiftflow/shiftflow/roster"
)

func init() {
	mounts = append(mounts, func(s *Server, r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(requireScope(ScopeApproval, ScopeSchedule))
			r.Get("/people", s.listPeople)
			r.With(s.idempotent).Post("/people:batch", s.batchPeople)
			r.Get("/people/{id}", s.getPerson)
			r.Put("/people/{id}", s.putPerson)
			r.Delete("/people/{id}", s.deletePerson)
		})
	})
}

var personIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`)

// PersonInput is a person as written by PUT and the batch endpoint.
type PersonInput struct {
	ID             string          `json:"id,omitempty"`
	Name           string          `json:"name"`
	Email          string          `json:"email,omitempty"`
	Department     string          `json:"department,omitempty"`
	DepartmentHead bool            `json:"department_head,omitempty"`
	Manager        string          `json:"manager,omitempty"`
	Roles          []string        `json:"roles,omitempty"`
	Skills         []string        `json:"skills,omitempty"`
	Contract       json.RawMessage `json:"contract,omitempty"`
}

// Person is a directory entry as read.
type Person struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Email          string          `json:"email"`
	Department     string          `json:"department"`
	DepartmentHead bool            `json:"department_head"`
	Manager        *string         `json:"manager"`
	Roles          []string        `json:"roles"`
	Skills         []string        `json:"skills"`
	Contract       json.RawMessage `json:"contract"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

func personView(p dbsqlc.Person) Person {
	return Person{ID: p.ID, Name: p.Name, Email: p.Email, Department: p.Department, DepartmentHead: p.DepartmentHead,
		Manager: p.ManagerID, Roles: p.Roles, Skills: p.Skills, Contract: p.Contract, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// validatePerson checks one person; prefix names it in field paths.
func validatePerson(p *PersonInput, prefix string) []FieldError {
	var errs []FieldError
	add := func(field, reason string) { errs = append(errs, FieldError{Field: prefix + field, Reason: reason}) }
	if !personIDPattern.MatchString(p.ID) {
		add("id", "required: letters, digits and . _ @ -, starting with a letter or digit, at most 128 characters")
	}
	if len(p.Name) == 0 || len(p.Name) > 200 {
		add("name", "required, at most 200 characters")
	}
	if len(p.Email) > 320 {
		add("email", "at most 320 characters")
	}
	if len(p.Department) > 128 {
		add("department", "at most 128 characters")
	}
	if p.DepartmentHead && p.Department == "" {
		add("department_head", "a department head needs a department")
	}
	if p.Manager != "" {
		if !personIDPattern.MatchString(p.Manager) {
			add("manager", "not a valid person id")
		} else if p.Manager == p.ID {
			add("manager", "a person cannot be their own manager")
		}
	}
	for i, list := range [][]string{p.Roles, p.Skills} {
		name := []string{"roles", "skills"}[i]
		seen := map[string]bool{}
		for j, v := range list {
			switch {
			case v == "" || len(v) > 64:
				add(fmt.Sprintf("%s[%d]", name, j), "1 to 64 characters")
			case seen[v]:
				add(fmt.Sprintf("%s[%d]", name, j), fmt.Sprintf("duplicate %q", v))
			}
			seen[v] = true
		}
	}
	if len(p.Contract) > 0 && !bytes.Equal(bytes.TrimSpace(p.Contract), []byte("null")) {
		for _, e := range validateContract(p.Contract) {
			add("contract"+e.Field, e.Reason)
		}
	}
	return errs
}

// validateContract checks a scheduling contract (the roster model's fields).
func validateContract(raw json.RawMessage) []FieldError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c roster.Contract
	if err := dec.Decode(&c); err != nil {
		return []FieldError{{Field: "", Reason: "must be a contract object (min_minutes, max_minutes, min_weekly_minutes, max_weekly_minutes, max_shifts, min_consecutive_work, max_consecutive_work, min_consecutive_off, max_weekends): " + err.Error()}}
	}
	var errs []FieldError
	nonNeg := func(name string, v *int) {
		if v != nil && *v < 0 {
			errs = append(errs, FieldError{Field: "." + name, Reason: "must not be negative"})
		}
	}
	nonNeg("min_minutes", c.MinMinutes)
	nonNeg("max_minutes", c.MaxMinutes)
	nonNeg("min_weekly_minutes", c.MinWeeklyMinutes)
	nonNeg("max_weekly_minutes", c.MaxWeeklyMinutes)
	nonNeg("min_consecutive_work", c.MinConsecutiveWork)
	nonNeg("max_consecutive_work", c.MaxConsecutiveWork)
	nonNeg("min_consecutive_off", c.MinConsecutiveOff)
	nonNeg("max_weekends", c.MaxWeekends)
	for k, v := range c.MaxShifts {
		if v < 0 {
			errs = append(errs, FieldError{Field: ".max_shifts." + k, Reason: "must not be negative"})
		}
	}
	order := func(lo, hi string, a, b *int) {
		if a != nil && b != nil && *a > *b {
			errs = append(errs, FieldError{Field: "." + lo, Reason: fmt.Sprintf("must not exceed %s", hi)})
		}
	}
	order("min_minutes", "max_minutes", c.MinMinutes, c.MaxMinutes)
	order("min_weekly_minutes", "max_weekly_minutes", c.MinWeeklyMinutes, c.MaxWeeklyMinutes)
	order("min_consecutive_work", "max_consecutive_work", c.MinConsecutiveWork, c.MaxConsecutiveWork)
	return errs
}

// upsertPeople writes a validated set of people in one transaction, checking
// that managers exist (in the set or the directory) and form no cycle.
func (s *Server) upsertPeople(r *http.Request, org string, people []PersonInput, prefix func(i int) string) (created, updated int, errs []FieldError, err error) {
	err = db.InTx(r.Context(), s.deps.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		ctx := r.Context()
		inBatch := map[string]string{} // id -> manager
		for _, p := range people {
			inBatch[p.ID] = p.Manager
		}
		managerOf := func(id string) (string, bool, error) {
			if m, ok := inBatch[id]; ok {
				return m, true, nil
			}
			p, err := q.GetPerson(ctx, dbsqlc.GetPersonParams{OrgID: org, ID: id})
			if errors.Is(err, pgx.ErrNoRows) {
				return "", false, nil
			}
			if err != nil {
				return "", false, err
			}
			if p.ManagerID == nil {
				return "", true, nil
			}
			return *p.ManagerID, true, nil
		}
		for i, p := range people {
			if p.Manager == "" {
				continue
			}
			if _, ok, err := managerOf(p.Manager); err != nil {
				return err
			} else if !ok {
				errs = append(errs, FieldError{Field: prefix(i) + "manager", Reason: fmt.Sprintf("no person %q in the directory or this request", p.Manager)})
				continue
			}
			// Walk up the chain: it must end, not come back to p.
			seen := map[string]bool{p.ID: true}
			for cur := p.Manager; cur != ""; {
				if seen[cur] {
					errs = append(errs, FieldError{Field: prefix(i) + "manager", Reason: fmt.Sprintf("manager chain of %q loops through %q", p.ID, cur)})
					break
				}
				seen[cur] = true
				next, _, err := managerOf(cur)
				if err != nil {
					return err
				}
				cur = next
			}
		}
		if len(errs) > 0 {
			return errValidation
		}
		for _, p := range people {
			contract := p.Contract
			if len(contract) == 0 || bytes.Equal(bytes.TrimSpace(contract), []byte("null")) {
				contract = json.RawMessage(`{}`)
			}
			row, err := q.UpsertPerson(ctx, dbsqlc.UpsertPersonParams{
				OrgID: org, ID: p.ID, Name: p.Name, Email: p.Email, Department: p.Department, DepartmentHead: p.DepartmentHead,
				ManagerID: optional(p.Manager), Roles: nonNil(p.Roles), Skills: nonNil(p.Skills), Contract: contract,
			})
			if err != nil {
				return err
			}
			if row.Inserted {
				created++
			} else {
				updated++
			}
		}
		return nil
	})
	if errors.Is(err, errValidation) {
		err = nil
	}
	return created, updated, errs, err
}

var errValidation = errors.New("validation failed")

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func (s *Server) putPerson(w http.ResponseWriter, r *http.Request) {
	setAction(r, "people.put")
	var in PersonInput
	if !decodeJSON(w, r, &in) {
		return
	}
	id := chi.URLParam(r, "id")
	if in.ID != "" && in.ID != id {
		problem(w, r, http.StatusUnprocessableEntity, "the body's id differs from the path", FieldError{Field: "id", Reason: "must equal the id in the path or be omitted"})
		return
	}
	in.ID = id
	if errs := validatePerson(&in, ""); len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the person is invalid", errs...)
		return
	}
	org := principalFrom(r).OrgID
	created, _, errs, err := s.upsertPeople(r, org, []PersonInput{in}, func(int) string { return "" })
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the person is invalid", errs...)
		return
	}
	if err := s.audit(r, org, "people.put", "person", id, in); err != nil {
		s.internalError(w, r, err)
		return
	}
	p, err := dbsqlc.New(s.deps.DB).GetPerson(r.Context(), dbsqlc.GetPersonParams{OrgID: org, ID: id})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	status := http.StatusOK
	if created == 1 {
		status = http.StatusCreated
	}
	writeJSON(w, status, personView(p))
}

// MaxBatchPeople bounds POST /people:batch.
const MaxBatchPeople = 1000

func (s *Server) batchPeople(w http.ResponseWriter, r *http.Request) {
	setAction(r, "people.batch")
	var in struct {
		People []PersonInput `json:"people"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if len(in.People) == 0 || len(in.People) > MaxBatchPeople {
		problem(w, r, http.StatusUnprocessableEntity, "invalid batch", FieldError{Field: "people", Reason: fmt.Sprintf("1 to %d people", MaxBatchPeople)})
		return
	}
	prefix := func(i int) string { return fmt.Sprintf("people[%d].", i) }
	var errs []FieldError
	seen := map[string]int{}
	for i := range in.People {
		errs = append(errs, validatePerson(&in.People[i], prefix(i))...)
		if j, dup := seen[in.People[i].ID]; dup {
			errs = append(errs, FieldError{Field: prefix(i) + "id", Reason: fmt.Sprintf("duplicate of people[%d]", j)})
		}
		seen[in.People[i].ID] = i
	}
	if len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the batch is invalid; nothing was written", errs...)
		return
	}
	org := principalFrom(r).OrgID
	created, updated, errs, err := s.upsertPeople(r, org, in.People, prefix)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if len(errs) > 0 {
		problem(w, r, http.StatusUnprocessableEntity, "the batch is invalid; nothing was written", errs...)
		return
	}
	if err := s.audit(r, org, "people.batch", "person", "*", map[string]int{"created": created, "updated": updated}); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"created": created, "updated": updated})
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) {
	setAction(r, "people.get")
	p, err := dbsqlc.New(s.deps.DB).GetPerson(r.Context(), dbsqlc.GetPersonParams{OrgID: principalFrom(r).OrgID, ID: chi.URLParam(r, "id")})
	if s.lookupFailed(w, r, err, "no such person") {
		return
	}
	writeJSON(w, http.StatusOK, personView(p))
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) {
	setAction(r, "people.list")
	var after string
	limit, ok := pageParams(w, r, &after)
	if !ok {
		return
	}
	qs := r.URL.Query()
	rows, err := dbsqlc.New(s.deps.DB).ListPeople(r.Context(), dbsqlc.ListPeopleParams{
		OrgID: principalFrom(r).OrgID, Department: optional(qs.Get("department")), Role: optional(qs.Get("role")),
		Skill: optional(qs.Get("skill")), AfterID: after, MaxRows: int32(limit + 1),
	})
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	page := pageOf(rows, limit, personView, func(r dbsqlc.Person) any { return r.ID })
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) deletePerson(w http.ResponseWriter, r *http.Request) {
	setAction(r, "people.delete")
	org, id := principalFrom(r).OrgID, chi.URLParam(r, "id")
	var conflict string
	err := db.InTx(r.Context(), s.deps.DB, func(tx pgx.Tx, q *dbsqlc.Queries) error {
		ctx := r.Context()
		// Lock the row so no task is assigned while we check.
		if err := q.LockPerson(ctx, dbsqlc.LockPersonParams{OrgID: org, ID: id}); err != nil {
			return err
		}
		open, err := q.CountOpenTasksOf(ctx, dbsqlc.CountOpenTasksOfParams{OrgID: org, Assignee: id})
		if err != nil {
			return err
		}
		if open > 0 {
			conflict = fmt.Sprintf("%s holds %d open approval task(s); transfer them first", id, open)
			return errValidation
		}
		reports, err := q.CountReports(ctx, dbsqlc.CountReportsParams{OrgID: org, ManagerID: &id})
		if err != nil {
			return err
		}
		if reports > 0 {
			conflict = fmt.Sprintf("%s manages %d people; give them another manager first", id, reports)
			return errValidation
		}
		n, err := q.DeletePerson(ctx, dbsqlc.DeletePersonParams{OrgID: org, ID: id})
		if err != nil {
			return err
		}
		if n == 0 {
			return pgx.ErrNoRows
		}
		return nil
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		problem(w, r, http.StatusNotFound, "no such person")
		return
	case errors.Is(err, errValidation):
		problem(w, r, http.StatusConflict, conflict)
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}
	if err := s.audit(r, org, "people.delete", "person", id, map[string]any{}); err != nil {
		s.internalError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
