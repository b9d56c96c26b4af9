package flow

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// submit starts a new instance.
func submit(t *Template, c Command, dir Directory) (Result, error) {
	if c.InstanceID == "" {
		return Result{}, refuse(ErrInvalid, "instance_id is required")
	}
	if c.Actor == "" {
		return Result{}, refuse(ErrInvalid, "actor (the initiator) is required")
	}
	if probs := ValidateTemplate(t); len(probs) > 0 {
		return Result{}, &Error{Kind: ErrInvalid, Reason: fmt.Sprintf("template %s v%d is invalid: %s", t.ID, t.Version, probs[0]), Problems: probs}
	}
	ok, err := dir.Exists(c.Actor)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, refuse(ErrInvalid, "actor: initiator %q is not in the directory", c.Actor)
	}
	st := &Instance{
		ID: c.InstanceID, Org: c.Org, TemplateID: t.ID, TemplateVersion: t.Version,
		Initiator: c.Actor, Status: StatusRunning, Round: 1,
		CreatedAt: c.At,
	}
	a := newApplier(t, st, c, dir)
	if err := a.setForm(c.Form, c.Chosen); err != nil {
		return Result{}, err
	}
	a.record(Entry{Action: "submit"})
	a.emit(EventInstanceSubmitted, "", EventData{Status: StatusRunning, Round: 1})
	if err := a.enter(t.start().ID, ""); err != nil {
		return Result{}, err
	}
	return a.result(), nil
}

// setForm validates and installs a form and the chosen approvers.
func (a *applier) setForm(form map[string]any, chosen map[string][]string) error {
	errs := ValidateForm(a.t, form)
	for i := range a.t.Form {
		f := &a.t.Form[i]
		p, ok := form[f.Name].(string)
		if f.Type != TypePerson || !ok || slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == f.Name }) {
			continue
		}
		exists, err := a.dir.Exists(p)
		if err != nil {
			return err
		}
		if !exists {
			errs = append(errs, FieldError{f.Name, fmt.Sprintf("unknown person %q", p)})
		}
	}
	if len(errs) > 0 {
		return &Error{Kind: ErrInvalid, Reason: "form does not match template " + a.t.ID, Fields: errs}
	}
	if err := a.checkChosen(chosen); err != nil {
		return err
	}
	a.st.Form = maps.Clone(form)
	if a.st.Form == nil {
		a.st.Form = map[string]any{}
	}
	if chosen != nil {
		a.st.Chosen = make(map[string][]string, len(chosen))
		for k, v := range chosen {
			a.st.Chosen[k] = slices.Clone(v)
		}
	}
	return nil
}

// checkChosen accepts chosen approvers only for approval nodes with a
// chosen rule, and only people who exist. Leaving a node out is allowed:
// its on_empty rule applies.
func (a *applier) checkChosen(chosen map[string][]string) error {
	nodes := slices.Sorted(maps.Keys(chosen))
	for _, node := range nodes {
		n := a.t.node(node)
		if n == nil || n.Approval == nil || !slices.ContainsFunc(n.Approval.Approvers, func(r ApproverRule) bool { return r.Type == RuleChosen }) {
			return refuse(ErrInvalid, "chosen.%s: not an approval node whose approvers are chosen at submit", node)
		}
		for k, p := range chosen[node] {
			ok, err := a.dir.Exists(p)
			if err != nil {
				return err
			}
			if !ok {
				return refuse(ErrInvalid, "chosen.%s[%d]: unknown person %q", node, k, p)
			}
		}
	}
	return nil
}

// resubmitCmd restarts a returned instance from the start with an edited
// form (nil keeps the old one) and, optionally, new chosen approvers.
func (a *applier) resubmitCmd() error {
	if a.actor != a.st.Initiator {
		return refuse(ErrForbidden, "only the initiator %s may resubmit", a.st.Initiator)
	}
	if a.st.Status != StatusReturned {
		return refuse(ErrConflict, "instance %s is %s; only a returned instance can be resubmitted", a.st.ID, a.st.Status)
	}
	form, chosen := a.c.Form, a.c.Chosen
	if form == nil {
		form = a.st.Form
	}
	if chosen == nil {
		chosen = a.st.Chosen
	}
	if err := a.setForm(form, chosen); err != nil {
		return err
	}
	a.st.Status = StatusRunning
	a.st.Round++
	a.st.Runs, a.st.Joins, a.st.Active = nil, nil, nil
	a.record(Entry{Action: "resubmit", Comment: a.c.Comment})
	a.emit(EventInstanceResubmitted, "", EventData{Status: StatusRunning, Round: a.st.Round, Comment: a.c.Comment})
	return a.enter(a.t.start().ID, "")
}

// urgeCmd nudges every current assignee (催办), at most once per urge
// interval per instance.
func (a *applier) urgeCmd() error {
	if err := a.requireInitiator("urge"); err != nil {
		return err
	}
	if err := a.requireRunning(); err != nil {
		return err
	}
	interval := time.Duration(a.t.UrgeInterval)
	if interval <= 0 {
		interval = DefaultUrgeInterval
	}
	if !a.st.LastUrgedAt.IsZero() {
		if next := a.st.LastUrgedAt.Add(interval); a.c.At.Before(next) {
			return &Error{Kind: ErrRateLimited, Reason: fmt.Sprintf("instance %s was urged at %s; urge again after %s", a.st.ID, a.st.LastUrgedAt.Format(time.RFC3339), next.Format(time.RFC3339)), RetryAfter: next.Sub(a.c.At)}
		}
	}
	open := a.st.OpenTasks()
	if len(open) == 0 {
		return refuse(ErrConflict, "instance %s has no open task to urge", a.st.ID)
	}
	a.st.LastUrgedAt = a.c.At
	a.record(Entry{Action: "urge", People: a.st.Assignees(), Comment: a.c.Comment})
	for _, tk := range open {
		a.emit(EventTaskUrged, tk.Node, EventData{TaskID: tk.ID, Assignee: tk.Assignee, Comment: a.c.Comment})
	}
	return nil
}

// commentCmd adds a comment; participants (initiator, anyone who held a
// task or was copied) and admins may comment, also after the end.
func (a *applier) commentCmd() error {
	if strings.TrimSpace(a.c.Comment) == "" && len(a.c.Attachments) == 0 {
		return refuse(ErrInvalid, "comment: give text or attachments")
	}
	for k, ref := range a.c.Attachments {
		if strings.TrimSpace(ref) == "" {
			return refuse(ErrInvalid, "attachments[%d]: empty reference", k)
		}
	}
	participant := a.c.Admin || a.actor == a.st.Initiator ||
		slices.ContainsFunc(a.st.Tasks, func(t Task) bool { return t.Assignee == a.actor }) ||
		slices.ContainsFunc(a.st.CCs, func(c CC) bool { return c.Person == a.actor })
	if !participant {
		return refuse(ErrForbidden, "%s does not take part in instance %s", a.actor, a.st.ID)
	}
	atts := slices.Clone(a.c.Attachments)
	a.record(Entry{Action: "comment", Comment: a.c.Comment, Attachments: atts})
	a.emit(EventCommentAdded, "", EventData{Comment: a.c.Comment, Attachments: atts})
	return nil
}

// cancelCmd ends the instance on the initiator's or an admin's word.
func (a *applier) cancelCmd() error {
	if err := a.requireInitiator("cancel"); err != nil {
		return err
	}
	a.record(Entry{Action: "cancel", Comment: a.c.Comment})
	reason := "cancelled by " + a.actor
	if a.c.Comment != "" {
		reason += ": " + a.c.Comment
	}
	return a.finish(StatusCancelled, "", reason)
}
