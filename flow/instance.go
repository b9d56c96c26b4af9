package flow

import (
	"maps"
	"slices"
	"time"
)

// Instance is the whole state of one approval, stored by the adapter as
// JSON next to an optimistic lock (Version). Apply never modifies an
// Instance; it returns a new one. Treat Form as read-only: versions of an
// instance share it.
type Instance struct {
	ID              string              `json:"id"`
	Org             string              `json:"org,omitempty"`
	TemplateID      string              `json:"template_id"`
	TemplateVersion int                 `json:"template_version"`
	Initiator       string              `json:"initiator"`
	Form            map[string]any      `json:"form"`
	Chosen          map[string][]string `json:"chosen,omitempty"` // approval node id -> people picked at submit
	Status          Status              `json:"status"`
	// Version counts the changes Apply made; the adapter can use it as the
	// optimistic lock (UPDATE ... WHERE version = old).
	Version int `json:"version"`
	// Round counts submissions: 1 at submit, +1 per resubmit.
	Round int `json:"round"`
	// Active lists the approval nodes with a run in progress, in the order
	// they were entered.
	Active []string `json:"active"`
	// Runs holds the latest run of every node visited in this round.
	Runs []NodeRun `json:"runs"`
	// Joins counts the branches that reached each join of an open split.
	Joins  map[string]int `json:"joins,omitempty"`
	Tasks  []Task         `json:"tasks"`
	Timers []Timer        `json:"timers,omitempty"` // pending timers; a fired id not listed here is stale
	CCs    []CC           `json:"ccs,omitempty"`
	// History is every action taken, in order.
	History     []Entry   `json:"history"`
	LastUrgedAt time.Time `json:"last_urged_at,omitzero"`
	// Seq feeds the deterministic ids of tasks ("<id>:t<n>"), timers
	// ("<id>:tm<n>") and runs.
	Seq        int       `json:"seq"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Status is the lifecycle state of an instance.
type Status string

const (
	StatusRunning   Status = "running"
	StatusReturned  Status = "returned" // rejected back to the initiator: resubmit, withdraw or cancel
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusWithdrawn Status = "withdrawn"
	StatusCancelled Status = "cancelled"
)

// Terminal reports whether no further decision can change the instance.
func (s Status) Terminal() bool {
	switch s {
	case StatusApproved, StatusRejected, StatusWithdrawn, StatusCancelled:
		return true
	}
	return false
}

// Task is one person's part in one run of an approval node.
type Task struct {
	ID       string    `json:"id"`
	Node     string    `json:"node"`
	Run      int       `json:"run"`
	Order    int       `json:"order"` // approver slot: the position in a sequential node
	Assignee string    `json:"assignee"`
	State    TaskState `json:"state"`
	Origin   Origin    `json:"origin"`
	AddedBy  string    `json:"added_by,omitempty"` // who added this signer
	// DelegatedFrom is the delegator's task this delegate task returns to;
	// such a task gives an opinion and never counts as a vote.
	DelegatedFrom string `json:"delegated_from,omitempty"`
	// TransferredFrom is the task this one replaced by transfer or escalation.
	TransferredFrom string `json:"transferred_from,omitempty"`
	// Resume is the task a before-signer gates; it reopens when the signers
	// are through.
	Resume string `json:"resume,omitempty"`
	// Then are signers added after this task, started in order once it approves.
	Then []Signer `json:"then,omitempty"`
	// Delegation is the delegate's opinion, set when the task came back.
	Delegation  *Delegation `json:"delegation,omitempty"`
	Comment     string      `json:"comment,omitempty"`
	Attachments []string    `json:"attachments,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
	DecidedAt   time.Time   `json:"decided_at,omitzero"`
	DecidedBy   string      `json:"decided_by,omitempty"` // the assignee, or SystemActor for timers
	// DecidedSeq is the history sequence number of the decision.
	DecidedSeq int `json:"decided_seq,omitempty"`
	// Touched marks an open task its assignee already worked on (added a
	// parallel signer, got a delegation back); it blocks taking back the
	// decision that created it.
	Touched bool `json:"touched,omitempty"`
	// Undo records what this task's approval caused, so the approver can
	// take it back while nothing downstream has acted.
	Undo *Undo `json:"undo,omitempty"`
}

// TaskState is where a task stands.
type TaskState string

const (
	TaskOpen        TaskState = "open"      // in the assignee's inbox
	TaskWaiting     TaskState = "waiting"   // for signers added before the assignee
	TaskDelegated   TaskState = "delegated" // with a delegate; comes back when they resolve
	TaskApproved    TaskState = "approved"
	TaskRejected    TaskState = "rejected"
	TaskTransferred TaskState = "transferred" // replaced by a task of another person
	TaskCancelled   TaskState = "cancelled"   // no longer needed (node decided, withdrawn, removed...)
)

// pending reports whether the task still holds up its node.
func (s TaskState) pending() bool {
	return s == TaskOpen || s == TaskWaiting || s == TaskDelegated
}

// Origin says why a task exists.
type Origin string

const (
	OriginApprover       Origin = "approver"        // resolved from the node's rules
	OriginAdmin          Origin = "admin"           // nobody resolved; routed to the admin
	OriginTransfer       Origin = "transfer"        // 转办
	OriginEscalation     Origin = "escalation"      // timeout escalated to the manager
	OriginDelegate       Origin = "delegate"        // 委派: gives an opinion, returns
	OriginSignerBefore   Origin = "signer_before"   // 前加签
	OriginSignerAfter    Origin = "signer_after"    // 后加签
	OriginSignerParallel Origin = "signer_parallel" // 并加签
)

// Signer is a person queued by add_signer.
type Signer struct {
	Person  string `json:"person"`
	AddedBy string `json:"added_by"`
	Origin  Origin `json:"origin"` // signer_before or signer_after
}

// Delegation is the opinion a delegate returned to the delegator.
type Delegation struct {
	To      string `json:"to"`
	Opinion string `json:"opinion"` // "approve" or "reject"
	Comment string `json:"comment,omitempty"`
}

// NodeRun is one activation of a node in the current round. Approval runs
// carry the tally; parallel splits are recorded so a reject can go back to
// them.
type NodeRun struct {
	Node   string    `json:"node"`
	Run    int       `json:"run"`
	Status RunStatus `json:"status"`
	// Prev is the approval node (or parallel split) before this one on the
	// path taken; to_previous goes there ("" means the initiator).
	Prev string `json:"prev,omitempty"`
	// Queue holds the sequential approvers not started yet.
	Queue []string `json:"queue,omitempty"`
	// Slots is the number of approver slots (voters); Approved and Rejected
	// count decided slots.
	Slots     int       `json:"slots,omitempty"`
	Approved  int       `json:"approved,omitempty"`
	Rejected  int       `json:"rejected,omitempty"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// RunStatus is where a node run stands.
type RunStatus string

const (
	RunActive    RunStatus = "active"
	RunApproved  RunStatus = "approved"
	RunRejected  RunStatus = "rejected"
	RunCancelled RunStatus = "cancelled" // abandoned by a reject elsewhere, withdraw or cancel
	RunPassed    RunStatus = "passed"    // auto-approved (nobody resolved) or a split
)

// Timer is a durable timer the adapter stores and fires back as a Command
// (Action timeout or remind, TimerID = ID) at DueAt.
type Timer struct {
	ID     string    `json:"id"`
	Kind   TimerKind `json:"kind"`
	TaskID string    `json:"task_id"`
	Node   string    `json:"node"`
	DueAt  time.Time `json:"due_at"`
	Seq    int       `json:"seq,omitempty"` // reminder number, 1-based
}

// TimerKind is timeout or reminder.
type TimerKind string

const (
	TimerTimeout  TimerKind = "timeout"
	TimerReminder TimerKind = "reminder"
)

// CC is one copy sent by a cc node.
type CC struct {
	Person string    `json:"person"`
	Node   string    `json:"node"`
	Round  int       `json:"round"`
	At     time.Time `json:"at"`
}

// Entry is one line of the history.
type Entry struct {
	Seq         int       `json:"seq"`
	At          time.Time `json:"at"`
	Actor       string    `json:"actor"`
	Action      string    `json:"action"`
	Node        string    `json:"node,omitempty"`
	TaskID      string    `json:"task_id,omitempty"`
	Target      string    `json:"target,omitempty"` // person or node the action points at
	People      []string  `json:"people,omitempty"` // signers, cc recipients
	Comment     string    `json:"comment,omitempty"`
	Attachments []string  `json:"attachments,omitempty"`
}

// Undo lists what one approval caused, so that it can be taken back.
type Undo struct {
	SlotDone  bool           `json:"slot_done,omitempty"`
	NodeDone  bool           `json:"node_done,omitempty"`
	Dequeued  string         `json:"dequeued,omitempty"`  // sequential approver started
	Spawned   []string       `json:"spawned,omitempty"`   // tasks opened
	Reopened  []string       `json:"reopened,omitempty"`  // waiting tasks reopened
	Cancelled []CancelRecord `json:"cancelled,omitempty"` // tasks closed when the node was decided
	Entered   []RunRef       `json:"entered,omitempty"`   // downstream runs started
	Joins     []JoinMark     `json:"joins,omitempty"`
}

// CancelRecord remembers the state a task had before it was cancelled.
type CancelRecord struct {
	Task  string    `json:"task"`
	State TaskState `json:"state"`
}

// RunRef names one node run.
type RunRef struct {
	Node string `json:"node"`
	Run  int    `json:"run"`
}

// JoinMark is a join counter before and after an advance.
type JoinMark struct {
	Join   string `json:"join"`
	Before int    `json:"before"`
	After  int    `json:"after"`
}

// OpenTasks returns the tasks waiting in someone's inbox (state open), in
// creation order: the rows of the adapter's inbox projection.
func (in *Instance) OpenTasks() []Task {
	var out []Task
	for _, t := range in.Tasks {
		if t.State == TaskOpen {
			out = append(out, t)
		}
	}
	return out
}

// MayApprove reports whether actor may approve on in, naming taskID or
// no task: in is running and actor holds exactly one open task, or the open
// task taskID. That is all Apply asks of an approve (the property test
// holds the two equal), so an adapter can let an approve through on a
// stored state, or on the task projection, without applying it; Apply
// says why when it does not hold.
func (in *Instance) MayApprove(actor, taskID string) bool {
	if in.Status != StatusRunning {
		return false
	}
	held := 0
	for _, t := range in.Tasks {
		if t.Assignee != actor || t.State != TaskOpen {
			continue
		}
		if taskID != "" && t.ID == taskID {
			return true
		}
		held++
	}
	return taskID == "" && held == 1
}

// Assignees returns the distinct people holding open tasks, in task order.
func (in *Instance) Assignees() []string {
	var out []string
	for _, t := range in.Tasks {
		if t.State == TaskOpen && !slices.Contains(out, t.Assignee) {
			out = append(out, t.Assignee)
		}
	}
	return out
}

// Task returns the task with the given id.
func (in *Instance) Task(id string) (Task, bool) {
	if i := in.taskIndex(id); i >= 0 {
		return in.Tasks[i], true
	}
	return Task{}, false
}

func (in *Instance) taskIndex(id string) int {
	for i := range in.Tasks {
		if in.Tasks[i].ID == id {
			return i
		}
	}
	return -1
}

// run returns the latest run of a node in this round, or nil.
func (in *Instance) run(node string) *NodeRun {
	for i := range in.Runs {
		if in.Runs[i].Node == node {
			return &in.Runs[i]
		}
	}
	return nil
}

// clone copies everything Apply may modify in place. Slices that are only
// ever appended to or replaced wholesale are clipped instead, so an append
// reallocates rather than writing into the original's array.
func (in *Instance) clone() *Instance {
	out := *in
	out.Active = slices.Clone(in.Active)
	out.Runs = slices.Clone(in.Runs)
	out.Joins = maps.Clone(in.Joins)
	out.Tasks = make([]Task, len(in.Tasks), len(in.Tasks)+4)
	copy(out.Tasks, in.Tasks)
	out.Timers = slices.Clone(in.Timers)
	out.CCs = slices.Clip(in.CCs)
	out.History = make([]Entry, len(in.History), len(in.History)+2)
	copy(out.History, in.History)
	return &out
}
