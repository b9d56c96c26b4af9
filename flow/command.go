package flow

import "time"

// Action names what a Command does.
type Action string

const (
	ActSubmit       Action = "submit"
	ActApprove      Action = "approve"
	ActReject       Action = "reject"
	ActTransfer     Action = "transfer"
	ActDelegate     Action = "delegate"
	ActAddSigner    Action = "add_signer"
	ActRemoveSigner Action = "remove_signer"
	ActWithdraw     Action = "withdraw"
	ActResubmit     Action = "resubmit"
	ActUrge         Action = "urge"
	ActComment      Action = "comment"
	ActCancel       Action = "cancel"
	ActTimeout      Action = "timeout" // fired by a timer
	ActRemind       Action = "remind"  // fired by a timer
)

// SystemActor is the actor recorded for timer-driven and automatic steps.
const SystemActor = "system"

// Signer positions for add_signer.
const (
	PositionBefore   = "before"
	PositionAfter    = "after"
	PositionParallel = "parallel"
)

// Command is one request to change an instance. Which fields matter
// depends on Action:
//
//   - submit: InstanceID, Org, Form, Chosen (Actor is the initiator)
//   - approve, reject: TaskID (optional when the actor holds one open task),
//     Comment, Attachments; reject also RejectTo
//   - transfer, delegate: TaskID (optional), To; an Admin may transfer any
//     open task (TaskID required)
//   - add_signer: TaskID (optional), Signers, Position
//   - remove_signer: Signers (people the actor added)
//   - withdraw: no TaskID and the initiator as Actor withdraws the instance;
//     otherwise it takes back the actor's last approval (TaskID optional)
//   - resubmit: Form (and optionally Chosen) after a reject to the initiator
//   - urge: by the initiator or an Admin, rate-limited per instance
//   - comment: Comment and/or Attachments, by any participant or an Admin
//   - cancel: by the initiator or an Admin
//   - timeout, remind: TimerID, fired by the adapter's timer table
type Command struct {
	Action Action    `json:"action"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"` // the only clock the core reads
	// Admin says the adapter authorized Actor as an org admin.
	Admin bool `json:"admin,omitempty"`

	InstanceID string              `json:"instance_id,omitempty"`
	Org        string              `json:"org,omitempty"`
	Form       map[string]any      `json:"form,omitempty"`
	Chosen     map[string][]string `json:"chosen,omitempty"`

	TaskID      string   `json:"task_id,omitempty"`
	Comment     string   `json:"comment,omitempty"`
	Attachments []string `json:"attachments,omitempty"`
	To          string   `json:"to,omitempty"`
	Signers     []string `json:"signers,omitempty"`
	Position    string   `json:"position,omitempty"`
	RejectTo    string   `json:"reject_to,omitempty"`
	TimerID     string   `json:"timer_id,omitempty"`
}

// Result is what Apply produced.
type Result struct {
	// Instance is the new state; on a Noop it is the input unchanged.
	Instance *Instance `json:"instance"`
	Events   []Event   `json:"events"`
	// Timers to store; CancelTimers are ids of stored timers to delete.
	Timers       []Timer  `json:"timers,omitempty"`
	CancelTimers []string `json:"cancel_timers,omitempty"`
	// Noop is true when the command changed nothing: a stale timer fired.
	Noop bool `json:"noop,omitempty"`
}
