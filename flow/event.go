package flow

import "time"

// Event types. The first groups are the public contract of issue 3; the
// extras cover returns, resubmits, comments, take-backs and cancelled tasks.
const (
	EventInstanceSubmitted   = "approval.instance.submitted"
	EventInstanceApproved    = "approval.instance.approved"
	EventInstanceRejected    = "approval.instance.rejected"
	EventInstanceWithdrawn   = "approval.instance.withdrawn"
	EventInstanceCancelled   = "approval.instance.cancelled"
	EventInstanceReturned    = "approval.instance.returned"    // rejected back to the initiator
	EventInstanceResubmitted = "approval.instance.resubmitted" // edited form after a return

	EventTaskCreated     = "approval.task.created"
	EventTaskApproved    = "approval.task.approved"
	EventTaskRejected    = "approval.task.rejected"
	EventTaskTransferred = "approval.task.transferred"
	EventTaskDelegated   = "approval.task.delegated"
	EventTaskTimedOut    = "approval.task.timed_out"
	EventTaskReminded    = "approval.task.reminded"
	EventTaskUrged       = "approval.task.urged"
	EventTaskCancelled   = "approval.task.cancelled" // no longer needed; Data.Reason says why
	EventTaskWithdrawn   = "approval.task.withdrawn" // approver took the decision back; task open again

	EventCCSent       = "approval.cc.sent"
	EventCommentAdded = "approval.comment.added"

	// Emitted right after approval.instance.approved when the template's
	// kind is leave or shift_swap, with the same data: re-planning (and any
	// HR system) subscribes to these instead of to every approval.
	EventLeaveApproved     = "approval.leave.approved"
	EventShiftSwapApproved = "approval.shift_swap.approved"
)

// KindApprovedEvent is the event a kind adds to approval.instance.approved
// ("" for the generic kind).
func KindApprovedEvent(k Kind) string {
	switch k {
	case KindLeave:
		return EventLeaveApproved
	case KindShiftSwap:
		return EventShiftSwapApproved
	}
	return ""
}

// Event is one fact Apply produced. The adapter adds org, id and the
// envelope; everything else a consumer needs is here.
type Event struct {
	Type            string         `json:"type"`
	InstanceID      string         `json:"instance_id"`
	TemplateID      string         `json:"template_id"`
	TemplateVersion int            `json:"template_version"`
	Node            string         `json:"node,omitempty"`
	Actor           string         `json:"actor"`
	At              time.Time      `json:"at"`
	Form            map[string]any `json:"form"`
	Data            EventData      `json:"data"`
}

// EventData holds the type-specific fields of an Event; unused ones are
// omitted from JSON.
type EventData struct {
	TaskID   string `json:"task_id,omitempty"`
	Assignee string `json:"assignee,omitempty"` // the task's assignee (or cc recipient)
	// To is the new assignee (transfer, delegate, escalation) or the node a
	// reject went back to.
	To        string `json:"to,omitempty"`
	NewTaskID string `json:"new_task_id,omitempty"`
	Origin    Origin `json:"origin,omitempty"`
	// Opinion marks a delegate's approve/reject, which returns the task to
	// ReturnedTo instead of counting as a vote.
	Opinion     bool      `json:"opinion,omitempty"`
	ReturnedTo  string    `json:"returned_to,omitempty"`
	Comment     string    `json:"comment,omitempty"`
	Attachments []string  `json:"attachments,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Seq         int       `json:"seq,omitempty"` // reminder number
	Status      Status    `json:"status,omitempty"`
	Round       int       `json:"round,omitempty"`
	DueAt       time.Time `json:"due_at,omitzero"` // task deadline, when the node has a timeout
}
