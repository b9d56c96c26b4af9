// Package roster is the rostering core of shiftflow: the domain model of a
// rostering problem (employees, contracts, shift types, cover, requests,
// pinned assignments, a previous roster for re-planning), readers for the
// domain JSON (DecodeModel, Model.Validate) and the Curtois & Qu NRP text
// format (ParseNRP, NRPInstance.Model), an independent evaluator that
// explains a roster's penalty and hard violations (Evaluate), and an
// anytime solver (Solve).
//
// The package is pure: it imports only the standard library and does no I/O.
//
// # Semantics shared by every input format
//
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
//
// # How the solver works
//
// A model is compiled to flat arrays (compile.go). The state (state.go)
// keeps cover counts and per-employee aggregates and prices a change of a
// block of days in one or two rows incrementally; tests check it against
// Evaluate over random move sequences.
//
// Every hard rule is about one employee's row, and cover couples rows only
// through the penalty. So one row (or a window of it) can be re-optimised
// exactly against everybody else by dynamic programming over days (dp.go):
// the state holds the last shift's rotation class, the run length and,
// when they can bind, minutes, weekly minutes, weekends and per-type
// counts; weekend and per-type limits enter the state lazily, only when a
// solution without them breaks them. Under a hard minimum of minutes, a
// label is dropped as soon as the most work the rest of the window allows
// after its run (at most so many days in a row, then so many off) cannot
// reach the minimum; the bound is a backward table over run shapes, and on
// the benchmark's tight minutes it leaves a few labels per day and run
// instead of one per count of days worked (instance 22: a third more
// search steps in the same time).
//
// Solve runs one worker per thread. Each builds a first roster row by row
// with that DP (long horizons by rolling windows with a share of the horizon
// limits, the weekends shared out by their cover demand, or with weekend and
// per-type limits priced), then improves it by simulated annealing over
// these moves: re-optimising a window of one row, ruin-and-recreate of a
// window of a few rows (often aimed at a cover shortfall, rebuilt one by one
// by the DP with cost noise; windows of 4-14 days, 7-28 beyond six weeks, at
// most 14 again over half a year with shifts of mixed lengths, whose minutes
// make each window's DP dearer), block swaps between two rows, which keep
// cover, re-assigning one whole day across every employee at once, exactly,
// as a min-cost flow (dayflow.go; where each day and shift feeds one cover
// cell; solved by cancelling negative cycles from the day as it is), and,
// over horizons longer than six weeks, transfers: an employee at its
// weekend, per-type or minutes limit takes a cover shortfall by giving up
// the same resource weeks away (a window there re-optimised with it forced
// off, then a window around the shortfall; both kept or neither; the weekend
// given up is the one whose cover needs the employee least), and, where
// weekends are limited, weekend merges: of two employees each working one
// day of the same weekend, one takes both days and the other spends the
// freed weekend on a short weekend elsewhere (three window solves; all kept
// or none). Moves aimed at a shortfall sample the short cells uniformly. On
// problems small enough for a dense LP (up to 700 rows), the first worker
// also solves the LP relaxation by column generation (lp.go, cg.go: whole
// rows as columns, the DP as the pricer, Wentges dual smoothing, columns
// priced out pruned once there are 8 per row, a stop when the LP tails off)
// within half of its LP budget, and reports the LP bound; a roster whose
// penalty meets the bound is proven optimal and stops the search. A root LP
// that runs out of budget still rounds to a roster that may seed the local
// search. From a solved root the worker dives to rosters, between bursts of
// local search: each dive step forces the cells the LP decides and a few of
// its most decided fractional cells, re-prices, and leaves the branch that
// excludes the first of them open with the step's bound; the next dive
// starts from the open branch with the lowest bound (when the root took
// under an eighth of the LP budget, the deepest among equal bounds: a branch
// inherits its dive step's bound, so many share the root's, and the deepest
// lies next to the last dive), and branches that cannot beat the best roster
// are dropped (a heuristic branch and price: the decided cells are not
// branched on). On small problems (employees × days up to exactCells) dives
// are exact instead: one fractional cell per step, decided cells left free,
// and an integral LP priced before it is taken, so the dives and open
// branches together search every roster. A dive that needs more work than
// the root did (or an eighth of the budget) ends with its LP rounded, and
// the worker returns to the local search. Workers adopt the best roster
// found by any of them when they stagnate.
//
// Where a sub-problem of three quarters of the days is small enough for
// exact dives (employees × those days up to exactCells), the last worker
// (with one thread, the only one) interrupts its local search with
// exact-days descents
// (daysDescent): each move frees a random three quarters of the days,
// keeps the others, and solves that sub-problem by a complete branch and
// price whose bounds include the fixed days' cover, so it either improves
// the roster or proves that nothing differing only on those days does; a
// descent ends after daysFails moves without gain. Where weekends are
// limited, these descents wait for the root LP, continue from the best
// roster found before every move, and are followed by weekend moves (weekendMove): all of the roster
// is re-planned except which weekend days the employees not freed work,
// by a complete branch and price that branches on who works which weekend
// day before any cell. The freed employees are those whose weekends the
// root LP leaves fractional, and random others up to half the staff. With
// every employee's weekend days fixed the LP is tight (within 0.01 of the
// best roster on instance 7), so the weekends decide a roster's basin, and
// these moves cross between basins that no move of days or rows reaches.
//
// On problems whose whole LP does not fit or has more than maxRootCells
// employee-days (where the root alone would take longer than a minute),
// the workers alternate bursts of local search with window LPs
// (windowLP): the same column generation and dive, over every employee but
// only a window of days, the rest of the roster fixed, so columns are
// window rows priced by the window DP and the LP has one row per cover cell
// of the window. A window LP re-plans all employees jointly, which the
// one-row moves cannot. Its days go onto the best roster known when it
// ends (another worker may have improved other days meanwhile), else onto
// the roster it started from, and are kept when that beats it. Window
// starts follow one golden-ratio sequence shared by the workers, so
// windows run at the same time lie apart and a sweep covers the horizon.
// Windows start at a week; after a sweep's worth of failures in a row they
// double, up to what the dense LP holds, since long windows free the rules
// that span them (weekends, minutes over the horizon). Where weekends are
// limited, every other window LP is a weekend LP (weekendSet): the days of
// up to four consecutive weekends are free and every weekday between them
// stays fixed, so a weekend can pass from one employee to another at the
// cost of a week's window (on 13 a two-week window took 7-8 s, the four
// weekends 0.1-0.3 s); one already tried on the same roster is skipped,
// since its dive would repeat itself. On a small staff
// without weekend limits (lsOnlyStaff) the last of several workers keeps
// to the local search;
// where a week's window is already a master of over maxFirstWindowRows
// rows, window LPs cost more than the local search gains meanwhile and no
// worker runs them.
//
// The search minimises hard violations first (they weigh hardWeight per
// unit) and the penalty second; the result's feasibility, penalty and
// explanation always come from Evaluate. With one thread and MaxSteps the
// search is reproducible for a given seed.
package roster
