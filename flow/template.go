package flow

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Template is one version of an approval flow definition: a form schema and
// a graph of nodes. A running instance only ever needs the exact version it
// started on.
type Template struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	Kind    Kind   `json:"kind,omitempty"`
	// UrgeInterval is the minimum time between two urges of one instance;
	// zero means DefaultUrgeInterval.
	UrgeInterval Duration `json:"urge_interval,omitempty"`
	Form         []Field  `json:"form"`
	Nodes        []Node   `json:"nodes"`
}

// DefaultUrgeInterval applies when a template sets no urge_interval.
const DefaultUrgeInterval = 10 * time.Minute

// Kind marks templates whose approval feeds the scheduling side (re-plan).
type Kind string

const (
	KindGeneric   Kind = ""
	KindLeave     Kind = "leave"
	KindShiftSwap Kind = "shift_swap"
)

// Form field names a kind requires. Leave: FieldPerson, FieldFromDate,
// FieldToDate. Shift swap: FieldPerson, FieldDate, FieldOtherPerson,
// FieldOtherDate.
const (
	FieldPerson      = "person"
	FieldFromDate    = "from_date"
	FieldToDate      = "to_date"
	FieldDate        = "date"
	FieldOtherPerson = "other_person"
	FieldOtherDate   = "other_date"
)

// KindFields returns the fields (name and type) a kind requires in the form,
// in a fixed order; nil for the generic kind.
func KindFields(k Kind) []Field {
	switch k {
	case KindLeave:
		return []Field{
			{Name: FieldPerson, Type: TypePerson, Required: true},
			{Name: FieldFromDate, Type: TypeDate, Required: true},
			{Name: FieldToDate, Type: TypeDate, Required: true},
		}
	case KindShiftSwap:
		return []Field{
			{Name: FieldPerson, Type: TypePerson, Required: true},
			{Name: FieldDate, Type: TypeDate, Required: true},
			{Name: FieldOtherPerson, Type: TypePerson, Required: true},
			{Name: FieldOtherDate, Type: TypeDate, Required: true},
		}
	}
	return nil
}

// FieldType is the type of a form field.
type FieldType string

const (
	TypeString      FieldType = "string"
	TypeNumber      FieldType = "number"
	TypeInteger     FieldType = "integer"
	TypeBoolean     FieldType = "boolean"
	TypeDate        FieldType = "date" // "YYYY-MM-DD"
	TypeEnum        FieldType = "enum"
	TypePerson      FieldType = "person"      // a person id from the directory
	TypeAttachments FieldType = "attachments" // a list of attachment references
)

func (ft FieldType) valid() bool {
	switch ft {
	case TypeString, TypeNumber, TypeInteger, TypeBoolean, TypeDate, TypeEnum, TypePerson, TypeAttachments:
		return true
	}
	return false
}

// Field is one entry of a template's form schema.
type Field struct {
	Name     string    `json:"name"`
	Label    string    `json:"label,omitempty"`
	Type     FieldType `json:"type"`
	Required bool      `json:"required,omitempty"`
	Enum     []string  `json:"enum,omitempty"` // allowed values of an enum field
}

// NodeType is the kind of a graph node.
type NodeType string

const (
	NodeStart     NodeType = "start"
	NodeApproval  NodeType = "approval"
	NodeCondition NodeType = "condition"
	NodeParallel  NodeType = "parallel"
	NodeJoin      NodeType = "join"
	NodeCC        NodeType = "cc"
	NodeEnd       NodeType = "end"
)

// Node is one step of the graph. Which fields apply depends on Type:
// start, approval, cc and join use Next; condition uses Branches (exactly one
// Default); parallel uses Branches (Next only) and Join, the id of its
// matching join node; end uses nothing.
type Node struct {
	ID       string        `json:"id"`
	Type     NodeType      `json:"type"`
	Name     string        `json:"name,omitempty"`
	Next     string        `json:"next,omitempty"`
	Branches []Branch      `json:"branches,omitempty"`
	Join     string        `json:"join,omitempty"`
	Approval *ApprovalSpec `json:"approval,omitempty"`
	CC       *CCSpec       `json:"cc,omitempty"`
}

// Branch is an outgoing edge of a condition or parallel node. Condition
// branches are tried in order; the Default one is taken when none matches.
type Branch struct {
	Name    string     `json:"name,omitempty"`
	When    *Condition `json:"when,omitempty"`
	Default bool       `json:"default,omitempty"`
	Next    string     `json:"next"`
}

// Mode says how the tasks of an approval node combine into its outcome.
type Mode string

const (
	ModeSingle     Mode = "single"     // the first resolved approver decides
	ModeSequential Mode = "sequential" // 依次: one after another, everyone approves
	ModeAll        Mode = "all"        // 会签: everyone at once, everyone approves
	ModeAny        Mode = "any"        // 或签: everyone at once, the first decision wins
	ModeVote       Mode = "vote"       // 票签: pass when approvals reach PassRatio
)

func (m Mode) valid() bool {
	switch m {
	case ModeSingle, ModeSequential, ModeAll, ModeAny, ModeVote:
		return true
	}
	return false
}

// ApprovalSpec configures an approval node.
type ApprovalSpec struct {
	Mode Mode `json:"mode"`
	// PassRatio (vote only, 0 < r <= 1): the node passes once approvals/voters
	// reaches it and is rejected as soon as it can no longer be reached.
	PassRatio float64        `json:"pass_ratio,omitempty"`
	Approvers []ApproverRule `json:"approvers"`
	// OnEmpty applies when the rules resolve to nobody; "" means EmptyToAdmin.
	OnEmpty EmptyAction `json:"on_empty,omitempty"`
	// EmptyAdmin is the person EmptyToAdmin routes to; "" asks Directory.Admin.
	EmptyAdmin string        `json:"empty_admin,omitempty"`
	Timeout    *TimeoutSpec  `json:"timeout,omitempty"`
	Reminders  *ReminderSpec `json:"reminders,omitempty"`
	// OnReject is the reject behaviour: terminate (the default), to_previous,
	// to_initiator or to_node:<id>.
	OnReject string `json:"on_reject,omitempty"`
	// RejectOptions lists further behaviours a rejecting approver may choose
	// (Command.RejectTo) instead of OnReject.
	RejectOptions           []string    `json:"reject_options,omitempty"`
	CommentRequiredOnReject bool        `json:"comment_required_on_reject,omitempty"`
	Allow                   []Operation `json:"allow,omitempty"`
}

// allows reports whether the node permits an operation.
func (s *ApprovalSpec) allows(op Operation) bool {
	for _, a := range s.Allow {
		if a == op {
			return true
		}
	}
	return false
}

// Operation is an optional task operation a node may allow.
type Operation string

const (
	OpTransfer  Operation = "transfer"   // 转办
	OpDelegate  Operation = "delegate"   // 委派
	OpAddSigner Operation = "add_signer" // 加签 (and remove_signer, 减签)
)

// EmptyAction is what an approval node does when nobody resolves.
type EmptyAction string

const (
	EmptyToAdmin     EmptyAction = "admin"        // route to EmptyAdmin or Directory.Admin
	EmptyAutoApprove EmptyAction = "auto_approve" // pass the node
	EmptyReject      EmptyAction = "reject"       // reject the whole instance
)

// TimeoutSpec fires After a task opens, unless the task was decided before.
type TimeoutSpec struct {
	After  Duration      `json:"after"`
	Action TimeoutAction `json:"action"`
}

// TimeoutAction is what a task timeout does.
type TimeoutAction string

const (
	TimeoutAutoApprove TimeoutAction = "auto_approve"
	TimeoutAutoReject  TimeoutAction = "auto_reject"
	TimeoutEscalate    TimeoutAction = "escalate" // transfer to the assignee's manager
)

// ReminderSpec reminds the assignee of an open task Every interval, at most
// Max times.
type ReminderSpec struct {
	Every Duration `json:"every"`
	Max   int      `json:"max"`
}

// CCSpec configures a cc node: everyone the rules resolve to is copied.
type CCSpec struct {
	Recipients []ApproverRule `json:"recipients"`
}

// RuleType selects how an ApproverRule finds people.
type RuleType string

const (
	RulePeople         RuleType = "people"          // People, as listed
	RuleRole           RuleType = "role"            // members of Role
	RuleManager        RuleType = "manager"         // the manager Level steps above the initiator
	RuleManagerChain   RuleType = "manager_chain"   // managers 1..Level above the initiator, in order
	RuleDepartmentHead RuleType = "department_head" // head of the initiator's department
	RuleChosen         RuleType = "chosen"          // chosen by the initiator at submit (Command.Chosen[node])
	RuleFormField      RuleType = "form_field"      // the person id in form field Field
)

// ApproverRule resolves to an ordered list of person ids.
type ApproverRule struct {
	Type   RuleType `json:"type"`
	People []string `json:"people,omitempty"`
	Role   string   `json:"role,omitempty"`
	Level  int      `json:"level,omitempty"`
	Field  string   `json:"field,omitempty"`
}

// Reject behaviours (ApprovalSpec.OnReject, RejectOptions, Command.RejectTo).
const (
	RejectTerminate   = "terminate"
	RejectToPrevious  = "to_previous"
	RejectToInitiator = "to_initiator"
	RejectToNode      = "to_node:" // followed by a node id
)

// parseReject splits a reject behaviour into its kind and, for to_node, the
// target; "" means terminate.
func parseReject(s string) (kind, target string, ok bool) {
	switch s {
	case "", RejectTerminate:
		return RejectTerminate, "", true
	case RejectToPrevious, RejectToInitiator:
		return s, "", true
	}
	if id, found := strings.CutPrefix(s, RejectToNode); found && id != "" {
		return RejectToNode, id, true
	}
	return "", "", false
}

// node returns the node with the given id, or nil. Templates are small, so a
// scan beats building and caching an index.
func (t *Template) node(id string) *Node {
	for i := range t.Nodes {
		if t.Nodes[i].ID == id {
			return &t.Nodes[i]
		}
	}
	return nil
}

// field returns the form field with the given name, or nil.
func (t *Template) field(name string) *Field {
	for i := range t.Form {
		if t.Form[i].Name == name {
			return &t.Form[i]
		}
	}
	return nil
}

// start returns the first start node, or nil.
func (t *Template) start() *Node {
	for i := range t.Nodes {
		if t.Nodes[i].Type == NodeStart {
			return &t.Nodes[i]
		}
	}
	return nil
}

// splitOf returns the parallel node whose join is id, or nil.
func (t *Template) splitOf(join string) *Node {
	for i := range t.Nodes {
		if t.Nodes[i].Type == NodeParallel && t.Nodes[i].Join == join {
			return &t.Nodes[i]
		}
	}
	return nil
}

// Duration is a time.Duration written in JSON as a string: Go syntax
// ("90m", "1h30m") with an optional leading day count ("2d", "1d12h").
type Duration time.Duration

// MarshalJSON writes the Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "2d", "1d12h", "90m" and the like.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"30m\" or \"2d\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration parses Go duration syntax with an optional leading "<n>d".
func ParseDuration(s string) (Duration, error) {
	rest := s
	var days int64
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		days, rest = n, s[i+1:]
	}
	var part time.Duration
	if rest != "" {
		p, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		part = p
	} else if days == 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	const maxDays = 100 * 365 // keeps days*24h far from overflow
	if days > maxDays {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return Duration(time.Duration(days)*24*time.Hour + part), nil
}
