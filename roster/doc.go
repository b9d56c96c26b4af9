// Package roster is the rostering core of shiftflow: the domain model of a
// rostering problem (employees, contracts, shift types, cover, requests,
// pinned assignments, a previous roster for re-planning), readers for the
// domain JSON and the Curtois & Qu NRP text format, an independent evaluator
// that explains a roster's penalty and hard violations, and an anytime solver.
//
// The package is pure: it imports only the standard library and does no I/O.
//
// Semantics shared by every input format:
//   - A roster gives each employee one shift type or nothing on each day.
//   - Maximum rules (consecutive working days, rotation) treat the days outside
//     the horizon as days off; minimum rules (consecutive working days,
//     consecutive days off) never penalise a run that touches the first or the
//     last day of the horizon, since it may continue outside it.
//   - A weekend is a Saturday and the Sunday after it (a Sunday on the first
//     day forms a weekend alone); it counts as worked when either day is worked.
//   - Weeks run Monday to Sunday; minimum weekly minutes apply to whole weeks
//     inside the horizon only, maximum weekly minutes to every week.
//   - The penalty is the weighted sum of soft rule violations; hard rule
//     violations make a roster infeasible and are reported, not priced.
package roster
