package flow

import (
	"slices"
	"strconv"
	"time"
)

// Apply runs one command against an instance and returns the new state, the
// events to publish and the timers to store or delete. st is nil for a
// submit. Apply never modifies t, st or c, never reads the clock (c.At is
// the time) and derives every id it creates from the instance id and
// st.Seq, so the same inputs always give the same Result.
//
// Refusals are *Error values matching ErrInvalid, ErrForbidden,
// ErrConflict, ErrNotFound or ErrRateLimited; any other error comes from
// the Directory and is worth a retry. A timer that no longer exists in the
// state (its task was decided) yields Result.Noop with no events.
func Apply(t *Template, st *Instance, c Command, dir Directory) (Result, error) {
	if t == nil {
		return Result{}, refuse(ErrInvalid, "template is required")
	}
	if dir == nil {
		return Result{}, refuse(ErrInvalid, "directory is required")
	}
	if c.At.IsZero() {
		return Result{}, refuse(ErrInvalid, "command time (at) is required")
	}
	if !c.Action.known() {
		return Result{}, refuse(ErrInvalid, "unknown action %q", c.Action)
	}
	if st == nil {
		if c.Action != ActSubmit {
			return Result{}, refuse(ErrNotFound, "instance not found; submit it first")
		}
		return submit(t, c, dir)
	}
	if st.TemplateID != t.ID || st.TemplateVersion != t.Version {
		return Result{}, refuse(ErrInvalid, "instance %s runs template %s v%d, not %s v%d", st.ID, st.TemplateID, st.TemplateVersion, t.ID, t.Version)
	}
	switch c.Action {
	case ActSubmit:
		return Result{}, refuse(ErrConflict, "instance %s was already submitted", st.ID)
	case ActTimeout, ActRemind:
		if !slices.ContainsFunc(st.Timers, func(tm Timer) bool { return tm.ID == c.TimerID }) {
			return Result{Instance: st, Noop: true}, nil
		}
	case ActComment:
	default:
		if st.Status.Terminal() {
			return Result{}, refuse(ErrConflict, "instance %s is %s", st.ID, st.Status)
		}
	}
	a := newApplier(t, st.clone(), c, dir)
	if err := a.dispatch(); err != nil {
		return Result{}, err
	}
	return a.result(), nil
}

// Check tells whether Apply would accept c, without keeping the result. The
// API calls it before publishing a command so it can answer 403/409/422 at
// once; the worker's Apply stays authoritative.
func Check(t *Template, st *Instance, c Command, dir Directory) error {
	_, err := Apply(t, st, c, dir)
	return err
}

func (a Action) known() bool {
	switch a {
	case ActSubmit, ActApprove, ActReject, ActTransfer, ActDelegate, ActAddSigner, ActRemoveSigner,
		ActWithdraw, ActResubmit, ActUrge, ActComment, ActCancel, ActTimeout, ActRemind:
		return true
	}
	return false
}

// applier carries one Apply call: the new state being built and what it
// produced so far.
type applier struct {
	t      *Template
	st     *Instance
	c      Command
	dir    Directory
	actor  string
	events []Event
	timers []Timer  // created by this call
	cancel []string // stored timers to delete
	// undo, when set, records the effects of the approval being applied.
	undo    *Undo
	steps   int
	regions map[string][]region
}

func newApplier(t *Template, st *Instance, c Command, dir Directory) *applier {
	actor := c.Actor
	if c.Action == ActTimeout || c.Action == ActRemind {
		actor = SystemActor
	}
	return &applier{t: t, st: st, c: c, dir: dir, actor: actor}
}

func (a *applier) result() Result {
	a.st.Version++
	a.st.UpdatedAt = a.c.At
	return Result{Instance: a.st, Events: a.events, Timers: a.timers, CancelTimers: a.cancel}
}

func (a *applier) dispatch() error {
	if a.c.Action != ActTimeout && a.c.Action != ActRemind && a.c.Actor == "" {
		return refuse(ErrInvalid, "actor is required")
	}
	switch a.c.Action {
	case ActApprove:
		return a.decideCmd(true)
	case ActReject:
		return a.decideCmd(false)
	case ActTransfer:
		return a.transferCmd()
	case ActDelegate:
		return a.delegateCmd()
	case ActAddSigner:
		return a.addSignerCmd()
	case ActRemoveSigner:
		return a.removeSignerCmd()
	case ActWithdraw:
		return a.withdrawCmd()
	case ActResubmit:
		return a.resubmitCmd()
	case ActUrge:
		return a.urgeCmd()
	case ActComment:
		return a.commentCmd()
	case ActCancel:
		return a.cancelCmd()
	case ActTimeout, ActRemind:
		return a.fireTimer()
	}
	return refuse(ErrInvalid, "unknown action %q", a.c.Action)
}

// emit appends an event carrying the instance's identity and form.
func (a *applier) emit(typ, node string, data EventData) {
	a.events = append(a.events, Event{
		Type:            typ,
		InstanceID:      a.st.ID,
		TemplateID:      a.st.TemplateID,
		TemplateVersion: a.st.TemplateVersion,
		Node:            node,
		Actor:           a.actor,
		At:              a.c.At,
		Form:            a.st.Form,
		Data:            data,
	})
}

// record appends a history entry and returns its sequence number.
func (a *applier) record(e Entry) int {
	e.Seq = len(a.st.History) + 1
	e.At = a.c.At
	if e.Actor == "" {
		e.Actor = a.actor
	}
	a.st.History = append(a.st.History, e)
	return e.Seq
}

func (a *applier) nextID(prefix string) string {
	a.st.Seq++
	return a.st.ID + ":" + prefix + strconv.Itoa(a.st.Seq)
}

func (a *applier) nextRun() int {
	a.st.Seq++
	return a.st.Seq
}

// noSpec stands in for the settings of a node the template lacks, so a
// mismatched template degrades into refusals instead of nil dereferences.
var noSpec = &ApprovalSpec{}

func (a *applier) spec(node string) *ApprovalSpec {
	if n := a.t.node(node); n != nil && n.Approval != nil {
		return n.Approval
	}
	return noSpec
}

func (a *applier) requireRunning() error {
	if a.st.Status != StatusRunning {
		return refuse(ErrConflict, "instance %s is %s", a.st.ID, a.st.Status)
	}
	return nil
}

func (a *applier) requireInitiator(what string) error {
	if a.actor != a.st.Initiator && !a.c.Admin {
		return refuse(ErrForbidden, "only the initiator %s or an admin may %s", a.st.Initiator, what)
	}
	return nil
}

func (a *applier) at(d Duration) time.Time { return a.c.At.Add(time.Duration(d)) }
