package sla

import (
	"encoding/json"
	"fmt"
	"time"
)

// Status is a case's normalised status.
type Status uint8

// The normalised statuses. The zero value is StatusOpen.
const (
	StatusOpen Status = iota
	StatusPendingCustomer
	StatusOnHold
	StatusResolved
	StatusClosed
	numStatuses
)

var statusNames = [numStatuses]string{"open", "pending_customer", "on_hold", "resolved", "closed"}

func (s Status) String() string {
	if s < numStatuses {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Done reports whether the status ends the case (resolved or closed).
func (s Status) Done() bool { return s == StatusResolved || s == StatusClosed }

// ParseStatus parses a normalised status name.
func ParseStatus(s string) (Status, error) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q (want one of open, pending_customer, on_hold, resolved, closed)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	*s = v
	return err
}

// StatusChange says the case has Status from At on.
type StatusChange struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
}

// SeverityChange says the case has Severity from At on.
type SeverityChange struct {
	At       time.Time `json:"at"`
	Severity int       `json:"severity"`
}

// Case is a support case normalised from any source. Zero times are null.
// Histories are oldest first (Normalize sorts them).
type Case struct {
	Source          string           `json:"source,omitempty"`
	ID              string           `json:"id"`
	Key             string           `json:"key,omitempty"`
	URL             string           `json:"url,omitempty"`
	Customer        string           `json:"customer,omitempty"`
	Tier            string           `json:"tier,omitempty"`
	Severity        int              `json:"severity,omitempty"` // 0: unknown, the policy's default applies
	Status          Status           `json:"status"`
	Created         time.Time        `json:"created"`
	FirstResponse   time.Time        `json:"first_response"`
	Resolved        time.Time        `json:"resolved"`
	StatusHistory   []StatusChange   `json:"status_history,omitempty"`
	SeverityHistory []SeverityChange `json:"severity_history,omitempty"`
	Timezone        string           `json:"timezone,omitempty"`
	Labels          []string         `json:"labels,omitempty"`
	Type            string           `json:"type,omitempty"`
	// SourceDue is the deadline the ticket system itself holds (Request
	// Tracker's Due), for a cross-check with ours; zero when it has none.
	SourceDue time.Time `json:"source_due,omitzero"`
}

// MarshalJSON writes a case in the shape of the file source, with null for
// a missing first response or resolution, so what one source yields can be
// saved and read back by another.
func (c Case) MarshalJSON() ([]byte, error) {
	type plain Case
	out := struct {
		plain
		FirstResponse *time.Time `json:"first_response"`
		Resolved      *time.Time `json:"resolved"`
	}{plain: plain(c)}
	if !c.FirstResponse.IsZero() {
		out.FirstResponse = &c.FirstResponse
	}
	if !c.Resolved.IsZero() {
		out.Resolved = &c.Resolved
	}
	return json.Marshal(out)
}

// Open reports whether the case is neither resolved nor closed as of at.
func (c *Case) Open(at time.Time) bool {
	return !c.StatusAt(at).Done()
}

// StatusAt is the case's status at instant t. With a status history it is
// the last entry at or before t, or open before the first entry. Without
// one it is the case's current status, except that a case resolved after t
// was still open at t.
func (c *Case) StatusAt(t time.Time) Status {
	return c.statusAt(t.Unix())
}

func (c *Case) statusAt(t int64) Status {
	if len(c.StatusHistory) > 0 {
		s := StatusOpen
		for i := range c.StatusHistory {
			if c.StatusHistory[i].At.Unix() > t {
				break
			}
			s = c.StatusHistory[i].Status
		}
		return s
	}
	if c.Status.Done() && !c.Resolved.IsZero() && c.Resolved.Unix() > t {
		return StatusOpen
	}
	return c.Status
}

// SeverityAt is the severity at instant t: that of the last history entry at
// or before t, or of the first entry when t precedes them all; with no
// history, Severity. Zero means unknown.
func (c *Case) SeverityAt(t time.Time) int { return c.severityAt(t.Unix()) }

func (c *Case) severityAt(t int64) int {
	h := c.SeverityHistory
	if len(h) == 0 {
		return c.Severity
	}
	s := h[0].Severity
	for i := 1; i < len(h); i++ {
		if h[i].At.Unix() > t {
			break
		}
		s = h[i].Severity
	}
	return s
}

// Validate checks what the engine relies on and names the first field that
// is wrong. Sources call it on every case they read, after Normalize, and
// CheckTimezone on its time zone.
func (c *Case) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("id: missing")
	case c.Created.IsZero():
		return fmt.Errorf("created: missing")
	case c.Severity != 0 && (c.Severity < 1 || c.Severity > 4):
		return fmt.Errorf("severity: %d is not between 1 and 4", c.Severity)
	case !c.FirstResponse.IsZero() && c.FirstResponse.Before(c.Created):
		return fmt.Errorf("first_response: %s is before created %s", c.FirstResponse.Format(time.RFC3339), c.Created.Format(time.RFC3339))
	case !c.Resolved.IsZero() && c.Resolved.Before(c.Created):
		return fmt.Errorf("resolved: %s is before created %s", c.Resolved.Format(time.RFC3339), c.Created.Format(time.RFC3339))
	case c.Status >= numStatuses:
		return fmt.Errorf("status: invalid")
	case c.Status.Done() && c.Resolved.IsZero():
		// Its targets would otherwise run, and breach, for ever.
		return fmt.Errorf("resolved: missing for a %s case (and no status history says when)", c.Status)
	}
	for i, h := range c.SeverityHistory {
		if h.Severity < 1 || h.Severity > 4 {
			return fmt.Errorf("severity_history[%d].severity: %d is not between 1 and 4", i, h.Severity)
		}
		if h.At.IsZero() {
			return fmt.Errorf("severity_history[%d].at: missing", i)
		}
	}
	for i, h := range c.StatusHistory {
		if h.At.IsZero() {
			return fmt.Errorf("status_history[%d].at: missing", i)
		}
		if h.Status >= numStatuses {
			return fmt.Errorf("status_history[%d].status: invalid", i)
		}
	}
	return nil
}

// CheckTimezone says whether a case's time zone is a known IANA zone. It is
// apart from Validate because it reads the zone database, which is slow:
// callers checking many cases remember the answers.
func CheckTimezone(name string) error {
	if name == "Local" {
		return fmt.Errorf("timezone: %q depends on the machine; name an IANA zone such as Europe/Paris", name)
	}
	if _, err := time.LoadLocation(name); err != nil || name == "" {
		return fmt.Errorf("timezone: unknown time zone %q", name)
	}
	return nil
}

// Normalize truncates every instant to the second, sorts the histories
// oldest first (keeping the order of equal instants) and, for a resolved or
// closed case with no resolution instant, takes it from the status history.
func (c *Case) Normalize() {
	sec := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.Truncate(time.Second)
		}
	}
	sec(&c.Created)
	sec(&c.FirstResponse)
	sec(&c.Resolved)
	for i := range c.StatusHistory {
		sec(&c.StatusHistory[i].At)
	}
	for i := range c.SeverityHistory {
		sec(&c.SeverityHistory[i].At)
	}
	sortStable(c.StatusHistory, func(a, b StatusChange) bool { return a.At.Before(b.At) })
	sortStable(c.SeverityHistory, func(a, b SeverityChange) bool { return a.At.Before(b.At) })
	if c.Resolved.IsZero() && c.Status.Done() {
		// The last move into a done status is when the case was resolved.
		for i := len(c.StatusHistory) - 1; i >= 0; i-- {
			if !c.StatusHistory[i].Status.Done() {
				break
			}
			c.Resolved = c.StatusHistory[i].At
		}
	}
}

// sortStable is an insertion sort: histories are short and almost always
// already sorted, so this is linear in practice and never allocates.
func sortStable[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
