// Package sla computes the SLA state of support cases: the clock that counts
// a target's time inside a calendar's open hours, minus pauses, and the state
// (ok, warning, breached, met, …) every metric, alert and report shows.
//
// It is pure: no I/O, no global state, no wall clock. Everything is computed
// as of an instant the caller passes in, so a past instant gives what a scrape
// at that instant would have shown.
package sla
