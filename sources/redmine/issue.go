package redmine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

// ref is Redmine's {id, name} reference.
type ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// issue is the part of a Redmine issue the source reads.
type issue struct {
	ID      int64 `json:"id"`
	Project ref   `json:"project"`
	Tracker ref   `json:"tracker"`
	Status  struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		IsClosed bool   `json:"is_closed"`
	} `json:"status"`
	Priority     ref        `json:"priority"`
	Author       ref        `json:"author"`
	CreatedOn    time.Time  `json:"created_on"`
	UpdatedOn    time.Time  `json:"updated_on"`
	ClosedOn     *time.Time `json:"closed_on"`
	CustomFields []struct {
		ID    int64           `json:"id"`
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	} `json:"custom_fields"`
	Journals []journal `json:"journals"`
}

type journal struct {
	ID           int64     `json:"id"`
	User         ref       `json:"user"`
	Notes        string    `json:"notes"`
	CreatedOn    time.Time `json:"created_on"`
	PrivateNotes bool      `json:"private_notes"`
	Details      []struct {
		Property string  `json:"property"`
		Name     string  `json:"name"`
		OldValue *string `json:"old_value"`
		NewValue *string `json:"new_value"`
	} `json:"details"`
}

// errGone is an issue deleted since it was listed.
var errGone = errors.New("issue deleted")

// build reads an issue's journals and makes its case. An issue that is not
// a valid case is a problem error; one deleted meanwhile errGone; a
// failed request another error.
func (s *source) build(ctx context.Context, listed issue) (sla.Case, error) {
	var out struct {
		Issue issue `json:"issue"`
	}
	_, err := s.client.Do(ctx, rest.Request{Path: "/issues/" + strconv.FormatInt(listed.ID, 10) + ".json",
		Query: map[string][]string{"include": {"journals"}}}, &out)
	var se *rest.StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusNotFound:
		return sla.Case{}, errGone
	case err != nil:
		return sla.Case{}, fmt.Errorf("issue %d: reading journals: %w", listed.ID, err)
	}
	if err := s.knowAll(ctx, out.Issue); err != nil {
		return sla.Case{}, err
	}
	return s.mapIssue(out.Issue)
}

// knowAll reads the statuses and priorities again when the issue names one
// not read yet (an administrator added it since).
func (s *source) knowAll(ctx context.Context, is issue) error {
	s.mu.Lock()
	missing := false
	check := func(name string, v *string) {
		if v == nil || *v == "" {
			return
		}
		id, err := strconv.ParseInt(*v, 10, 64)
		if err != nil {
			return
		}
		switch name {
		case "status_id":
			_, ok := s.statuses[id]
			missing = missing || !ok
		case "priority_id":
			_, ok := s.priorities[id]
			missing = missing || !ok
		}
	}
	for _, j := range is.Journals {
		for _, d := range j.Details {
			if d.Property == "attr" {
				check(d.Name, d.OldValue)
				check(d.Name, d.NewValue)
			}
		}
	}
	s.mu.Unlock()
	if !missing {
		return nil
	}
	return s.readEnumerations(ctx)
}

// statusOf is the normalised status of a Redmine status: by name (the
// mapping), else closed if Redmine marks it closed, else open.
func (s *source) statusOf(name string, closed bool) sla.Status {
	if st, ok := s.statusMap[strings.ToLower(name)]; ok {
		return st
	}
	if closed {
		return sla.StatusClosed
	}
	return sla.StatusOpen
}

// mapIssue makes the case of an issue read with its journals.
func (s *source) mapIssue(is issue) (sla.Case, error) {
	id := strconv.FormatInt(is.ID, 10)
	bad := func(format string, args ...any) (sla.Case, error) {
		return sla.Case{}, sources.Problem{Err: fmt.Errorf("issue %s: %s", id, fmt.Sprintf(format, args...))}
	}
	c := sla.Case{Source: s.name, ID: id, URL: s.base + "/issues/" + id, Customer: is.Project.Name,
		Type: is.Tracker.Name, Status: s.statusOf(is.Status.Name, is.Status.IsClosed), Created: is.CreatedOn}
	var ok bool
	if c.Severity, ok = s.severity[strings.ToLower(is.Priority.Name)]; !ok {
		return bad("priority: %q is not in the mapping's severity", is.Priority.Name)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{s.tierF, &c.Tier}, {s.custF, &c.Customer}, {s.tzF, &c.Timezone}} {
		if f.key == "" {
			continue
		}
		v, err := is.custom(f.key)
		if err != nil {
			return bad("%v", err)
		}
		if v != "" {
			*f.dst = v
		}
	}
	s.history(is, &c)
	c.Normalize()
	if c.Status.Done() && c.Resolved.IsZero() {
		// Closed with no status change in the journals (created closed).
		c.Resolved = is.CreatedOn
		if is.ClosedOn != nil {
			c.Resolved = is.ClosedOn.Truncate(time.Second)
		}
	}
	if err := c.Validate(); err != nil {
		return bad("%v", err)
	}
	if c.Timezone != "" {
		if err := sla.CheckTimezone(c.Timezone); err != nil {
			return bad("%v", err)
		}
	}
	return c, nil
}

// custom is the value of the custom field named key (or with id key); ""
// when the issue lacks it or it is empty.
func (is issue) custom(key string) (string, error) {
	for _, f := range is.CustomFields {
		if f.Name != key && strconv.FormatInt(f.ID, 10) != key {
			continue
		}
		var v *string
		if json.Unmarshal(f.Value, &v) == nil {
			if v == nil {
				return "", nil
			}
			return strings.TrimSpace(*v), nil
		}
		var vs []string
		if json.Unmarshal(f.Value, &vs) == nil && len(vs) <= 1 {
			if len(vs) == 0 {
				return "", nil
			}
			return strings.TrimSpace(vs[0]), nil
		}
		return "", fmt.Errorf("custom field %s: not a single text value", key)
	}
	return "", nil
}

// history reads the journals into the status and severity histories and
// the first response: the earliest public note by someone other than the
// author.
func (s *source) history(is issue, c *sla.Case) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// lookup reads a journal's id value in one of the enumerations.
	lookup := func(v *string, find func(id int64) bool) bool {
		if v == nil {
			return false
		}
		id, err := strconv.ParseInt(*v, 10, 64)
		return err == nil && find(id)
	}
	statusOf := func(v *string) (st sla.Status, ok bool) {
		ok = lookup(v, func(id int64) bool {
			x, found := s.statuses[id]
			st = s.statusOf(x.Name, x.IsClosed)
			return found
		})
		return st, ok
	}
	severityOf := func(v *string) (sev int, ok bool) {
		ok = lookup(v, func(id int64) bool {
			var found bool
			sev, found = s.severity[strings.ToLower(s.priorities[id])]
			return found
		})
		return sev, ok
	}
	var firstStatus, firstSeverity bool
	for _, j := range is.Journals {
		if strings.TrimSpace(j.Notes) != "" && !j.PrivateNotes && j.User.ID != is.Author.ID &&
			(c.FirstResponse.IsZero() || j.CreatedOn.Before(c.FirstResponse)) {
			c.FirstResponse = j.CreatedOn
		}
		for _, d := range j.Details {
			if d.Property != "attr" {
				continue
			}
			switch d.Name {
			case "status_id":
				record(&firstStatus, d.OldValue, d.NewValue, statusOf, func(first bool, st sla.Status) {
					c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: pick(first, is.CreatedOn, j.CreatedOn), Status: st})
				})
			case "priority_id":
				record(&firstSeverity, d.OldValue, d.NewValue, severityOf, func(first bool, sev int) {
					c.SeverityHistory = append(c.SeverityHistory, sla.SeverityChange{At: pick(first, is.CreatedOn, j.CreatedOn), Severity: sev})
				})
			}
		}
	}
	if !firstStatus && c.Status != sla.StatusOpen {
		// Created in its current status (e.g. straight into Feedback).
		c.StatusHistory = []sla.StatusChange{{At: is.CreatedOn, Status: c.Status}}
	}
}

// record adds a field's change to its history: before the field's first
// change, its old value (from the issue's creation), then the new value.
func record[T any](seen *bool, old, new *string, of func(*string) (T, bool), add func(first bool, v T)) {
	if !*seen {
		*seen = true
		if v, ok := of(old); ok {
			add(true, v)
		}
	}
	if v, ok := of(new); ok {
		add(false, v)
	}
}

func pick(first bool, created, at time.Time) time.Time {
	if first {
		return created
	}
	return at
}
