// Package flow is the approval engine core: the template model and its
// validation, form validation, approver resolution against a Directory, and
// the instance state machine Apply(template, state, command) -> (state,
// events, timers).
//
// The package is pure: it does no I/O, never reads the clock (Command.At is
// the only time source) and creates ids deterministically from the instance
// id and a counter kept in the state, so the same inputs always give the
// same outputs. Adapters (workers/approval, the HTTP API) store the Instance
// as JSON, publish the Events and persist the Timers.
//
// Graph model: a Template is a directed acyclic graph of nodes. Going back
// is never an edge; it is a reject behaviour (to_previous, to_initiator,
// to_node:<id>). Parallel splits are structured: every branch of a split
// reaches the split's join before anything else, so approval nodes inside a
// branch belong to exactly one region.
package flow
