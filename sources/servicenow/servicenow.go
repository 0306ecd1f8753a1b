// Package servicenow is the source that reads incidents (or another task
// table) from ServiceNow through its Table API
// (GET /api/now/table/{table}), with sysparm_display_value=false so that
// dates are UTC "2006-01-02 15:04:05" and choices are their values.
//
// Records are read by keyset: ordered by sys_updated_on then sys_id, each
// page asks for sys_updated_on >= the last timestamp seen and skips the
// sys_ids already seen at that timestamp, so records changing while the
// scan runs are neither lost nor repeated the way offset paging would.
// The first Sync reads every active incident and those resolved since the
// start of the previous month, with Full set; later ones read the records
// updated since the cursor less the overlap, skipping those the last Sync
// already returned at the same sys_updated_on and sys_mod_count (the
// timestamp has whole seconds: a second update within the cursor's second
// shows only by its count). For each record returned,
// sys_audit gives its state (and hold_reason) and priority history and
// sys_journal_field its first comment by someone other than the caller.
package servicenow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

const (
	tablePrefix = "/api/now/table/"
	auditPath   = tablePrefix + "sys_audit"
	journalPath = tablePrefix + "sys_journal_field"
	// dateFormat is how the Table API writes and reads date-times.
	dateFormat = "2006-01-02 15:04:05"
	// historyPage is the page size of sys_audit reads.
	historyPage = 500
	// maxNotIn is the most sys_ids an incremental query leaves out by
	// name; past it they come back and are dropped here.
	maxNotIn = 200
)

// DefaultSeverity maps ServiceNow priorities (1 Critical … 5 Planning) to
// severities.
var DefaultSeverity = map[int]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 4}

// Incident states and the On Hold reason that waits on the caller.
const (
	stateOnHold       = "3"
	holdAwaitCaller   = "1"
	callerUserField   = "caller_id.user_name"
	defaultCustomerFn = "company"
)

var states = map[string]sla.Status{
	"1": sla.StatusOpen, "2": sla.StatusOpen, "3": sla.StatusOnHold,
	"6": sla.StatusResolved, "7": sla.StatusClosed, "8": sla.StatusClosed,
}

type source struct {
	name     string
	base     string // https://acme.service-now.com, no trailing slash
	table    string
	query    string // extra encoded query, ANDed
	overlap  time.Duration
	pageSize int
	tierF    string
	custF    string
	tzF      string
	severity map[int]int
	now      func() time.Time
	logger   *slog.Logger

	opts   rest.Options
	client *rest.Client
}

// New is the sources.Factory of `type: servicenow`. Keys: url (required),
// table (default incident), username with password or password_file
// (basic), or oauth_token or oauth_token_file (bearer); query (an encoded
// query ANDed to the source's own); requests_per_minute; overlap (default
// 5m); page_size (default 100); mapping: tier_field, customer_field
// (default company), timezone_field and severity (priority 1–5 to
// severity 1–4, default 1:1 2:2 3:3 4:4 5:4).
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{name: env.Name, table: "incident", overlap: 5 * time.Minute, pageSize: 100,
		custF: defaultCustomerFn, severity: DefaultSeverity, now: env.Now, logger: env.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	var user, password, oauth string
	ep := rest.Endpoint{Overlap: s.overlap}
	own := map[string]func(*yaml.Node, string){
		"table": func(v *yaml.Node, p string) {
			if d.String(v, p, &s.table) && !validName(s.table) {
				d.Errorf(v, p, "want a table name such as incident")
			}
		},
		"username": func(v *yaml.Node, p string) { d.String(v, p, &user) },
		"query": func(v *yaml.Node, p string) {
			if d.String(v, p, &s.query) && (strings.Contains(s.query, "ORDERBY") || strings.Contains(s.query, "^NQ")) {
				d.Errorf(v, p, "the query may not hold ORDERBY or ^NQ: the source orders and pages itself")
			}
		},
		"page_size": func(v *yaml.Node, p string) {
			if d.Int(v, p, &s.pageSize) && (s.pageSize < 1 || s.pageSize > 10000) {
				d.Errorf(v, p, "want 1 to 10000")
			}
		},
		"mapping": func(v *yaml.Node, p string) { s.decodeMapping(d, v, p) },
	}
	for k, h := range d.SecretFields("password", env.Dir, &password) {
		own[k] = h
	}
	for k, h := range d.SecretFields("oauth_token", env.Dir, &oauth) {
		own[k] = h
	}
	maps.Copy(own, ep.Fields(d, "the instance's address", "https://acme.service-now.com"))
	sources.Fields(d, n, path, own)
	ep.Require(d, n, path, "the instance's address", "https://acme.service-now.com")
	s.base, s.overlap = ep.URL, ep.Overlap
	rpm := ep.RequestsPerMinute
	var auth rest.Auth
	switch {
	case password != "" && oauth != "":
		d.Errorf(n, path, "give either username and password or an oauth_token, not both")
	case password != "":
		if user == "" {
			d.Errorf(n, strictyaml.Join(path, "username"), "missing: the integration user that goes with the password")
		}
		auth = rest.Basic{User: user, Password: password}
	case oauth != "":
		auth = rest.Bearer{Token: oauth}
	default:
		d.Errorf(n, path, "missing credentials: username with password (or password_file), or oauth_token (or oauth_token_file)")
	}
	s.opts = rest.Options{BaseURL: s.base, Auth: auth, RequestsPerMinute: rpm,
		Requests: env.Requests, Clock: env.Clock, Logger: s.logger}
	s.client = rest.New(s.opts)
	return s
}

// setTestClient is the tests' hook: the client paces on clock and sends
// through transport (nil: the default).
func (s *source) setTestClient(clock rest.Clock, transport http.RoundTripper) {
	s.opts.Clock, s.opts.Transport = clock, transport
	s.client = rest.New(s.opts)
}

// validName is a table or field name, dot-walks allowed.
func validName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func (s *source) decodeMapping(d *strictyaml.Decoder, n *yaml.Node, path string) {
	field := func(dst *string) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) {
			if d.String(v, p, dst) && !validName(*dst) {
				d.Errorf(v, p, "want a field name such as u_support_tier or company.u_tier")
			}
		}
	}
	d.Fields(n, path, map[string]func(*yaml.Node, string){
		"tier_field":     field(&s.tierF),
		"customer_field": field(&s.custF),
		"timezone_field": field(&s.tzF),
		"severity": func(v *yaml.Node, p string) {
			m := map[int]int{}
			d.Map(v, p, func(key string, _, val *yaml.Node) {
				kp := strictyaml.Join(p, key)
				pr, err := strconv.Atoi(key)
				if _, ok := DefaultSeverity[pr]; err != nil || !ok {
					d.Errorf(val, kp, "unknown priority %q: want 1 to 5", key)
					return
				}
				var sev int
				if d.Int(val, kp, &sev) && (sev < 1 || sev > 4) {
					d.Errorf(val, kp, "severity %d is not between 1 and 4", sev)
					return
				}
				m[pr] = sev
			})
			for k, v := range DefaultSeverity {
				if _, ok := m[k]; !ok {
					m[k] = v
				}
			}
			s.severity = m
		},
	})
}

// cursor is where the next Sync starts: the latest sys_updated_on seen,
// and the records already returned within the overlap before it (sys_id
// to record.version), which the next Sync does not return again unless
// they changed.
type cursor struct {
	Since string            `json:"since"`
	Seen  map[string]string `json:"seen,omitempty"`
}

// Sync reads every active or recently resolved record without a cursor,
// and the records changed since the cursor (less the overlap) with one.
func (s *source) Sync(ctx context.Context, cur string) (sources.Batch, error) {
	full := cur == ""
	var prev cursor
	if !full {
		if err := json.Unmarshal([]byte(cur), &prev); err != nil || prev.Since == "" {
			s.logger.Warn("Unreadable ServiceNow cursor: syncing everything again", "cursor", cur)
			return s.Sync(ctx, "")
		}
		if _, err := time.Parse(dateFormat, prev.Since); err != nil {
			s.logger.Warn("Unreadable ServiceNow cursor: syncing everything again", "cursor", cur)
			return s.Sync(ctx, "")
		}
	}
	var conds []string
	var since time.Time
	from := ""
	if full {
		now := s.now().UTC()
		since = time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
		conds = append(conds, "active=true^ORresolved_at>="+since.Format(dateFormat))
	} else {
		t, _ := time.Parse(dateFormat, prev.Since)
		from = t.Add(-s.overlap).Format(dateFormat)
		if n := len(prev.Seen); n > 0 && n <= maxNotIn {
			// The overlap is for records committed late; those the last
			// Sync returned come back only if they changed after it.
			ids := make([]string, 0, n)
			for id := range prev.Seen {
				if validName(id) {
					ids = append(ids, id)
				}
			}
			slices.Sort(ids)
			// sys_updated_on has whole seconds: a record updated again
			// in the cursor's second shows only by its sys_mod_count.
			conds = append(conds, "sys_idNOT IN"+strings.Join(ids, ",")+"^ORsys_updated_on>="+prev.Since)
		}
	}
	recs, err := s.scan(ctx, conds, from)
	if err != nil {
		return sources.Batch{}, err
	}
	next := cursor{Since: prev.Since, Seen: map[string]string{}}
	for _, r := range recs {
		if r.updated > next.Since {
			next.Since = r.updated
		}
	}
	if next.Since == "" { // nothing at all: start from now next time
		next.Since = s.now().UTC().Add(-s.overlap).Format(dateFormat)
	}
	nt, _ := time.Parse(dateFormat, next.Since)
	horizon := nt.Add(-s.overlap).Format(dateFormat)
	for id, u := range prev.Seen { // left out of this scan, still in the overlap
		if u >= horizon {
			next.Seen[id] = u
		}
	}
	b := sources.Batch{Full: full}
	for _, r := range recs {
		if r.updated >= horizon {
			next.Seen[r.sysID] = r.version()
		}
		if !full && prev.Seen[r.sysID] == r.version() {
			continue // returned by the last Sync, unchanged since
		}
		c, err := s.build(ctx, r)
		if err != nil {
			var pe sources.Problem
			if errors.As(err, &pe) {
				b.Problems = append(b.Problems, err)
				continue
			}
			return sources.Batch{}, err
		}
		if full && c.Status.Done() && c.Resolved.Before(since) {
			continue
		}
		b.Cases = append(b.Cases, c)
	}
	cb, err := json.Marshal(next)
	if err != nil {
		return sources.Batch{}, err
	}
	b.Cursor = string(cb)
	return b, nil
}

// Window reads the records opened before to and not resolved before from,
// and keeps those whose built case agrees.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	conds := []string{"opened_at<" + to.UTC().Format(dateFormat),
		"resolved_atISEMPTY^ORresolved_at>=" + from.UTC().Format(dateFormat)}
	recs, err := s.scan(ctx, conds, "")
	if err != nil {
		return nil, err
	}
	var out []sla.Case
	for _, r := range recs {
		c, err := s.build(ctx, r)
		if err != nil {
			var pe sources.Problem
			if errors.As(err, &pe) {
				s.logger.Warn("Skipped a record", "err", err)
				continue
			}
			return nil, err
		}
		if !c.Created.Before(to) || (!c.Resolved.IsZero() && c.Resolved.Before(from)) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// record is the part of a table record the source reads; every value is
// a string with sysparm_display_value=false.
type record struct {
	raw     map[string]string
	sysID   string
	number  string
	updated string
}

func (r record) get(f string) string { return r.raw[f] }

// version tells one state of a record from another: sys_updated_on, which
// has whole seconds, and sys_mod_count, which counts every update.
func (r record) version() string { return r.updated + "/" + r.get("sys_mod_count") }

// fields are the fields the source asks for.
func (s *source) fields() string {
	f := []string{"sys_id", "number", "sys_updated_on", "sys_mod_count", "sys_created_on", "opened_at", "state", "hold_reason",
		"priority", "resolved_at", "closed_at", callerUserField}
	for _, m := range []string{s.custF, s.tierF, s.tzF} {
		if m != "" {
			// A reference's value is a sys_id: ask for its name too.
			f = append(f, m, m+".name")
		}
	}
	return strings.Join(f, ",")
}

// scan reads every record matching conds (and the source's own query)
// and, when from is set, updated at or after it, by keyset: ordered by
// sys_updated_on and sys_id, each page from the last sys_updated_on seen,
// skipping the sys_ids already seen there.
func (s *source) scan(ctx context.Context, conds []string, from string) ([]record, error) {
	var base []string
	if s.query != "" {
		base = append(base, s.query)
	}
	base = append(base, conds...)
	var out []record
	at := map[string]int{}
	last := from
	seenAtLast := map[string]bool{}
	path := tablePrefix + s.table
	for page := 1; ; page++ {
		q := slices.Clone(base)
		if last != "" {
			q = append(q, "sys_updated_on>="+last)
		}
		q = append(q, "ORDERBYsys_updated_on", "ORDERBYsys_id")
		v := url.Values{
			"sysparm_query":                  {strings.Join(q, "^")},
			"sysparm_fields":                 {s.fields()},
			"sysparm_limit":                  {strconv.Itoa(s.pageSize)},
			"sysparm_display_value":          {"false"},
			"sysparm_exclude_reference_link": {"true"},
		}
		// The records at the last timestamp already seen sort first
		// (by sys_id): skipping them by offset keeps a page's worth of
		// new records per request; the sys_id check below still drops
		// any that come back.
		if n := len(seenAtLast); n > 0 {
			v.Set("sysparm_offset", strconv.Itoa(n))
		}
		var p struct {
			Result []map[string]any `json:"result"`
		}
		h, err := s.client.Do(ctx, rest.Request{Path: path, Query: v}, &p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.table, err)
		}
		progress := false
		for _, raw := range p.Result {
			r := record{raw: strs(raw)}
			r.sysID, r.number, r.updated = r.get("sys_id"), r.get("number"), r.get("sys_updated_on")
			if r.sysID == "" || r.updated == "" {
				return nil, fmt.Errorf("reading %s: page %d has a record without sys_id or sys_updated_on", s.table, page)
			}
			if r.updated == last && seenAtLast[r.sysID] {
				continue
			}
			if r.updated < last {
				return nil, fmt.Errorf("reading %s: page %d is not ordered by sys_updated_on", s.table, page)
			}
			progress = true
			if r.updated != last {
				last, seenAtLast = r.updated, map[string]bool{}
			}
			seenAtLast[r.sysID] = true
			if i, ok := at[r.sysID]; ok { // changed during the scan: keep the newest
				out[i] = r
				continue
			}
			at[r.sysID] = len(out)
			out = append(out, r)
		}
		total, terr := strconv.Atoi(h.Get("X-Total-Count"))
		offset, _ := strconv.Atoi(v.Get("sysparm_offset"))
		switch {
		case len(p.Result) < s.pageSize:
			return out, nil
		case terr == nil && total <= offset+len(p.Result):
			return out, nil
		case !progress:
			return nil, fmt.Errorf("reading %s: page %d brought no new record", s.table, page)
		}
	}
}

// strs turns a record's values into strings: a reference field without
// sysparm_exclude_reference_link is {"link","value"}.
func strs(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = x
		case map[string]any:
			if s, ok := x["value"].(string); ok {
				out[k] = s
			}
		case nil:
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out
}

func parseDate(v string) (time.Time, error) {
	return time.ParseInLocation(dateFormat, v, time.UTC)
}

// status is the normalised status of a state and hold reason.
func status(state, hold string) (sla.Status, bool) {
	st, ok := states[state]
	if ok && state == stateOnHold && hold == holdAwaitCaller {
		st = sla.StatusPendingCustomer
	}
	return st, ok
}

// named is a field's value, or its reference's name when there is one.
func (r record) named(f string) string {
	if f == "" {
		return ""
	}
	if n := r.get(f + ".name"); n != "" {
		return n
	}
	return r.get(f)
}

// build makes a record's case from it, its audit and its journal. A record
// that is not a valid case is a problem error; a failed request another.
func (s *source) build(ctx context.Context, r record) (sla.Case, error) {
	name := r.number
	if name == "" {
		name = r.sysID
	}
	bad := func(format string, args ...any) (sla.Case, error) {
		return sla.Case{}, sources.Problem{Err: fmt.Errorf("%s %s: %s", s.table, name, fmt.Sprintf(format, args...))}
	}
	st, ok := status(r.get("state"), r.get("hold_reason"))
	if !ok {
		return bad("unknown state %q", r.get("state"))
	}
	opened := r.get("opened_at")
	if opened == "" {
		opened = r.get("sys_created_on")
	}
	created, err := parseDate(opened)
	if err != nil {
		return bad("opened_at: %q is not a date", opened)
	}
	c := sla.Case{Source: s.name, ID: r.sysID, Key: r.number,
		URL:    s.base + "/" + s.table + ".do?sys_id=" + url.QueryEscape(r.sysID),
		Status: st, Created: created, Customer: r.named(s.custF), Tier: r.named(s.tierF), Timezone: r.named(s.tzF)}
	if p := r.get("priority"); p != "" {
		pr, err := strconv.Atoi(p)
		if c.Severity, ok = s.severity[pr]; err != nil || !ok {
			return bad("unknown priority %q", p)
		}
	}
	if err := s.history(ctx, r, &c); err != nil {
		return sla.Case{}, err
	}
	if err := s.firstResponse(ctx, r, &c); err != nil {
		return sla.Case{}, err
	}
	if c.Status.Done() {
		// The record's own resolution date is the last one; without it
		// Normalize takes the last move into a done status.
		for _, f := range []string{"resolved_at", "closed_at"} {
			if v := r.get(f); v != "" {
				t, err := parseDate(v)
				if err != nil {
					return bad("%s: %q is not a date", f, v)
				}
				c.Resolved = t
				break
			}
		}
	}
	c.Normalize()
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

type auditRow struct {
	FieldName string `json:"fieldname"`
	OldValue  string `json:"oldvalue"`
	NewValue  string `json:"newvalue"`
	Created   string `json:"sys_created_on"`
}

// history reads a record's sys_audit rows for state, hold_reason and
// priority into its status and severity histories. Rows at one instant
// (state and hold_reason set together) make one change.
func (s *source) history(ctx context.Context, r record, c *sla.Case) error {
	var rows []auditRow
	q := url.Values{
		"sysparm_query": {"tablename=" + s.table + "^documentkey=" + r.sysID +
			"^fieldnameINstate,hold_reason,priority^ORDERBYsys_created_on"},
		"sysparm_fields": {"fieldname,oldvalue,newvalue,sys_created_on"},
		"sysparm_limit":  {strconv.Itoa(historyPage)},
	}
	// The audit of a record only grows, at its end: offset paging is safe.
	for offset := 0; ; offset += historyPage {
		q.Set("sysparm_offset", strconv.Itoa(offset))
		var p struct {
			Result []auditRow `json:"result"`
		}
		if _, err := s.client.Do(ctx, rest.Request{Path: auditPath, Query: q}, &p); err != nil {
			return fmt.Errorf("%s %s: reading sys_audit: %w", s.table, r.number, err)
		}
		rows = append(rows, p.Result...)
		if len(p.Result) < historyPage {
			break
		}
	}
	// The values before the first change of each field.
	state, hold, prio := r.get("state"), r.get("hold_reason"), r.get("priority")
	firstOld := map[string]bool{}
	for _, a := range rows {
		if !firstOld[a.FieldName] {
			firstOld[a.FieldName] = true
			switch a.FieldName {
			case "state":
				state = a.OldValue
			case "hold_reason":
				hold = a.OldValue
			case "priority":
				prio = a.OldValue
			}
		}
	}
	addStatus := func(at time.Time) {
		st, ok := status(state, hold)
		if h := c.StatusHistory; ok && (len(h) == 0 || h[len(h)-1].Status != st) {
			c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: at, Status: st})
		}
	}
	addSeverity := func(at time.Time) {
		pr, err := strconv.Atoi(prio)
		if sev, ok := s.severity[pr]; err == nil && ok {
			if h := c.SeverityHistory; len(h) == 0 || h[len(h)-1].Severity != sev {
				c.SeverityHistory = append(c.SeverityHistory, sla.SeverityChange{At: at, Severity: sev})
			}
		}
	}
	if state != "" {
		addStatus(c.Created)
	}
	if prio != "" {
		addSeverity(c.Created)
	}
	for i := 0; i < len(rows); {
		at, err := parseDate(rows[i].Created)
		if err != nil {
			return sources.Problem{Err: fmt.Errorf("%s %s: sys_audit: %q is not a date", s.table, r.number, rows[i].Created)}
		}
		statusChanged, prioChanged := false, false
		j := i
		for ; j < len(rows) && rows[j].Created == rows[i].Created; j++ {
			switch rows[j].FieldName {
			case "state":
				state, statusChanged = rows[j].NewValue, true
			case "hold_reason":
				hold, statusChanged = rows[j].NewValue, true
			case "priority":
				prio, prioChanged = rows[j].NewValue, true
			}
		}
		if at.Before(c.Created) {
			at = c.Created
		}
		if statusChanged {
			addStatus(at)
		}
		if prioChanged {
			addSeverity(at)
		}
		i = j
	}
	return nil
}

// firstResponse reads the first public comment by someone other than the
// caller.
func (s *source) firstResponse(ctx context.Context, r record, c *sla.Case) error {
	caller := r.get(callerUserField)
	qs := "element_id=" + r.sysID + "^element=comments"
	if caller != "" {
		qs += "^sys_created_by!=" + caller
	}
	q := url.Values{
		"sysparm_query":  {qs + "^ORDERBYsys_created_on"},
		"sysparm_fields": {"sys_created_on,sys_created_by"},
		"sysparm_limit":  {"1"},
	}
	var p struct {
		Result []struct {
			Created string `json:"sys_created_on"`
			By      string `json:"sys_created_by"`
		} `json:"result"`
	}
	if _, err := s.client.Do(ctx, rest.Request{Path: journalPath, Query: q}, &p); err != nil {
		return fmt.Errorf("%s %s: reading sys_journal_field: %w", s.table, r.number, err)
	}
	for _, e := range p.Result {
		if caller != "" && e.By == caller {
			continue
		}
		t, err := parseDate(e.Created)
		if err != nil {
			return sources.Problem{Err: fmt.Errorf("%s %s: sys_journal_field: %q is not a date", s.table, r.number, e.Created)}
		}
		c.FirstResponse = t
		return nil
	}
	return nil
}
