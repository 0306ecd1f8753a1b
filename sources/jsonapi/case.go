package jsonapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
)

// reader reads one item's fields; its first error stands and the later
// reads do nothing.
type reader struct {
	s    *source
	item any
	err  error
}

func (r *reader) fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("fields.%s: %s", field, fmt.Sprintf(format, args...))
	}
}

// value is the value at p, nil when p is unset, the key missing or null.
func (r *reader) value(p path) any {
	if p == nil || r.err != nil {
		return nil
	}
	v, _ := p.get(r.item)
	return v
}

// text reads an optional scalar as text.
func (r *reader) text(field string, p path) string {
	v := r.value(p)
	if v == nil {
		return ""
	}
	t, ok := text(v)
	if !ok {
		r.fail(field, "%s is not a text or a number", show(v))
	}
	return t
}

// time reads an optional instant.
func (r *reader) time(field string, v any) time.Time {
	if v == nil || r.err != nil {
		return time.Time{}
	}
	t, err := r.s.timeF.parse(v)
	if err != nil {
		r.fail(field, "%s is not a time in format %s", show(v), r.s.timeF)
	}
	return t
}

// status maps a status value.
func (r *reader) status(field string, v any) sla.Status {
	if r.err != nil {
		return 0
	}
	t, ok := text(v)
	if !ok {
		r.fail(field, "%s is not a status", show(v))
		return 0
	}
	if st, ok := r.s.statusMap[strings.ToLower(t)]; ok {
		return st
	}
	if st, err := sla.ParseStatus(t); err == nil {
		return st
	}
	if r.s.defaultStatus != nil {
		return *r.s.defaultStatus
	}
	r.fail(field, "%s is not in status_map (and no default_status is set)", show(v))
	return 0
}

// severity maps a severity or priority value; nil is unknown (0).
func (r *reader) severity(field string, v any) int {
	if v == nil || r.err != nil {
		return 0
	}
	t, ok := text(v)
	if !ok {
		r.fail(field, "%s is not a severity", show(v))
		return 0
	}
	if sev, ok := r.s.severityMap[strings.ToLower(t)]; ok {
		return sev
	}
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= 4 {
		return n
	}
	r.fail(field, "%s is not in severity_map, nor a number from 1 to 4", show(v))
	return 0
}

// list reads the list at p; nil when absent.
func (r *reader) list(field string, p path) []any {
	v := r.value(p)
	if v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		r.fail(field, "%s is not a list", show(v))
	}
	return l
}

// history reads the entries of a history, skipping those without a value
// (events of other kinds), and hands each one's instant and value to add
// with the value's field name.
func (r *reader) history(field string, h *historyPath, add func(field string, at time.Time, val any)) {
	if h == nil {
		return
	}
	for i, e := range r.list(field, h.path) {
		val, _ := h.value.get(e)
		if val == nil {
			continue
		}
		entry := fmt.Sprintf("%s[%d]", field, i)
		at, _ := h.at.get(e)
		if at == nil {
			r.fail(entry+".at", "missing")
		}
		t := r.time(entry+".at", at)
		if r.err != nil {
			return
		}
		add(entry+".value", t, val)
	}
}

// build makes an item's case. It returns the item's update time, when it
// has a readable one, even with a problem, so that the cursor passes a
// broken item rather than list it again and again.
func (s *source) build(idx int, v any) (item, time.Time, error) {
	r := &reader{s: s, item: v}
	updated := r.time("updated", r.value(s.fields.updated))
	if r.err != nil {
		updated, r.err = time.Time{}, nil // a problem of its own, below
	}
	idv := r.value(s.fields.id)
	id, _ := text(idv)
	if id == "" {
		msg := "missing"
		if idv != nil {
			msg = show(idv) + " is not an id"
		}
		return item{}, updated, sources.Problem{Err: fmt.Errorf("item %d: fields.id: %s", idx, msg)}
	}
	problem := func(err error) error {
		return sources.Problem{Err: fmt.Errorf("item %d (id %q): %w", idx, id, err)}
	}
	if m := s.deleted; m != nil {
		if mv, _ := m.path.get(v); mv != nil {
			if t, ok := text(mv); ok && t == m.value {
				return item{c: sla.Case{ID: id}, deleted: true}, updated, nil
			}
		}
	}

	f := s.fields
	c := sla.Case{Source: s.name, ID: id}
	c.Key = r.text("key", f.key)
	c.URL = r.text("url", f.url)
	c.Customer = r.text("customer", f.customer)
	if c.Tier = r.text("tier", f.tier); c.Tier != "" {
		if t, ok := s.tierMap[strings.ToLower(c.Tier)]; ok {
			c.Tier = t
		}
	}
	c.Timezone = r.text("timezone", f.timezone)
	c.Type = r.text("type", f.typ)
	c.Created = r.time("created", r.value(f.created))
	if r.err == nil && c.Created.IsZero() {
		r.fail("created", "missing")
	}
	r.time("updated", r.value(f.updated))
	if sv := r.value(f.status); sv == nil {
		r.fail("status", "missing")
	} else {
		c.Status = r.status("status", sv)
	}
	c.Severity = r.severity("severity", r.value(f.severity))
	c.FirstResponse = r.time("first_response", r.value(f.firstResponse))
	c.Resolved = r.time("resolved", r.value(f.resolved))
	if l := f.labels; l != nil {
		for i, e := range r.list("labels", l.path) {
			if l.value != nil {
				e, _ = l.value.get(e)
			}
			if e == nil {
				continue
			}
			t, ok := text(e)
			if !ok {
				r.fail(fmt.Sprintf("labels[%d]", i), "%s is not a label", show(e))
				break
			}
			c.Labels = append(c.Labels, t)
		}
	}
	r.history("status_history", f.statusHistory, func(field string, at time.Time, val any) {
		c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: at, Status: r.status(field, val)})
	})
	r.history("severity_history", f.severityHistory, func(field string, at time.Time, val any) {
		// An unknown severity changes nothing.
		if sev := r.severity(field, val); sev != 0 {
			c.SeverityHistory = append(c.SeverityHistory, sla.SeverityChange{At: at, Severity: sev})
		}
	})
	if r.err != nil {
		return item{}, updated, problem(r.err)
	}
	if !c.Status.Done() {
		c.Resolved = time.Time{} // reopened: an old resolution no longer stops anything
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return item{}, updated, problem(err)
	}
	if c.Timezone != "" {
		if err := s.zoneErr(c.Timezone); err != nil {
			return item{}, updated, problem(fmt.Errorf("fields.%w", err))
		}
	}
	return item{c: c}, updated, nil
}
