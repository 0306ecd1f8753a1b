package rt

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
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

const (
	apiPath      = "/REST/2.0"
	ticketsPath  = apiPath + "/tickets"
	txnsPath     = apiPath + "/transactions"
	perPage      = 100 // REST2's most
	sqlTimestamp = "2006-01-02 15:04:05"
)

// DefaultSeverity is the lowest RT priority of each severity.
var DefaultSeverity = map[int]int{1: 90, 2: 70, 3: 40, 4: 0}

type source struct {
	name     string
	base     string // RT's web address, no trailing slash
	overlap  time.Duration
	tz       *time.Location
	restrict string // TicketSQL from queues and query; "" none
	queues   []string

	customerF       string
	tiers           map[string]string // lower-case SLA level → tier
	policyTierNames []string
	severity        map[int]int
	statuses        map[string]sla.Status // the statuses that are not open

	now    func() time.Time
	logger *slog.Logger
	opts   rest.Options
	client *rest.Client

	// seen are the tickets the last Sync returned within the overlap, by
	// id, with their LastUpdated: a Sync from that Sync's cursor skips
	// them while unchanged, so the overlap costs no history request.
	mu       sync.Mutex
	seenFor  string
	seen     map[string]time.Time
	pageSize int // perPage; tests lower it
}

// New is the sources.Factory of `type: rt`; the keys are in the package
// comment.
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{name: env.Name, overlap: 5 * time.Minute, tz: time.UTC, severity: DefaultSeverity,
		statuses: map[string]sla.Status{"stalled": sla.StatusPendingCustomer, "resolved": sla.StatusResolved,
			"rejected": sla.StatusClosed},
		now: env.Now, logger: env.Logger, pageSize: perPage}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if env.Policy != nil {
		s.policyTierNames = slices.Sorted(maps.Keys(env.Policy.Tiers))
	}
	var token, user, password, query string
	ep := rest.Endpoint{Overlap: s.overlap}
	const what, example = "RT's web address", "https://rt.example.com"
	own := map[string]func(*yaml.Node, string){
		"username": func(v *yaml.Node, p string) { d.String(v, p, &user) },
		"queues": func(v *yaml.Node, p string) {
			if d.Strings(v, p, &s.queues) && len(s.queues) == 0 {
				d.Errorf(v, p, "name at least one queue, or leave queues out")
			}
		},
		"query": func(v *yaml.Node, p string) {
			if d.String(v, p, &query) && strings.TrimSpace(query) == "" {
				d.Errorf(v, p, "empty: give a TicketSQL restriction such as \"Queue = 'Support'\", or leave query out")
			}
		},
		"timezone": func(v *yaml.Node, p string) {
			var z string
			if !d.String(v, p, &z) {
				return
			}
			if err := sla.CheckTimezone(z); err != nil {
				d.Errorf(v, p, "unknown time zone %q: want the API user's IANA zone, such as Europe/Berlin", z)
				return
			}
			s.tz, _ = time.LoadLocation(z)
		},
		"mapping": func(v *yaml.Node, p string) { s.decodeMapping(d, v, p, env.Policy) },
	}
	maps.Copy(own, d.SecretFields("token", env.Dir, &token))
	maps.Copy(own, d.SecretFields("password", env.Dir, &password))
	maps.Copy(own, ep.Fields(d, what, example))
	sources.Fields(d, n, path, own)
	ep.Require(d, n, path, what, example)
	s.base, s.overlap = ep.URL, ep.Overlap
	s.restrict = restriction(s.queues, query)
	var auth rest.Auth
	switch {
	case token != "" && (user != "" || password != ""):
		d.Errorf(n, path, "give either a token or a username and password, not both")
	case token != "":
		auth = rest.Header{Name: "Authorization", Value: "token " + token}
	case user != "" && password != "":
		auth = rest.Basic{User: user, Password: password}
	case user != "":
		d.Errorf(n, strictyaml.Join(path, "password"), "missing: the password (or password_file) of user %s", user)
	case password != "":
		d.Errorf(n, strictyaml.Join(path, "username"), "missing: the user the password belongs to")
	default:
		d.Errorf(n, path, "missing credentials: token (or token_file), or username with password (or password_file)")
	}
	s.opts = rest.Options{BaseURL: s.base, Auth: auth, RequestsPerMinute: ep.RequestsPerMinute,
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

// restriction is the TicketSQL every query of the source is ANDed with.
func restriction(queues []string, query string) string {
	var parts []string
	if len(queues) > 0 {
		qs := make([]string, len(queues))
		for i, q := range queues {
			qs[i] = "Queue = " + quote(q)
		}
		parts = append(parts, "("+strings.Join(qs, " OR ")+")")
	}
	if q := strings.TrimSpace(query); q != "" {
		parts = append(parts, "("+q+")")
	}
	return strings.Join(parts, " AND ")
}

// quote makes a TicketSQL string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

func (s *source) decodeMapping(d *strictyaml.Decoder, n *yaml.Node, path string, pol *sla.Policy) {
	lists := map[string]sla.Status{"waiting_statuses": sla.StatusPendingCustomer, "hold_statuses": sla.StatusOnHold,
		"resolved_statuses": sla.StatusResolved, "closed_statuses": sla.StatusClosed}
	given := map[sla.Status][]string{}
	fields := map[string]func(*yaml.Node, string){
		"customer_field": func(v *yaml.Node, p string) {
			if d.String(v, p, &s.customerF) && s.customerF == "" {
				d.Errorf(v, p, "want a ticket custom field's name such as Customer")
			}
		},
		"tiers": func(v *yaml.Node, p string) {
			s.tiers = map[string]string{}
			d.Map(v, p, func(key string, _, val *yaml.Node) {
				kp := strictyaml.Join(p, key)
				var tier string
				if !d.String(val, kp, &tier) {
					return
				}
				if pol != nil && pol.Tiers[tier] == nil {
					d.Errorf(val, kp, "tier %q is not in policy %s", tier, pol.Name)
					return
				}
				s.tiers[strings.ToLower(key)] = tier
			})
		},
		"severity": func(v *yaml.Node, p string) {
			m := map[int]int{}
			d.Map(v, p, func(key string, _, val *yaml.Node) {
				kp := strictyaml.Join(p, key)
				sev, err := strconv.Atoi(key)
				if err != nil || sev < 1 || sev > 4 {
					d.Errorf(val, kp, "unknown severity %q: want 1, 2, 3 or 4", key)
					return
				}
				var min int
				if d.Int(val, kp, &min) {
					m[sev] = min
				}
			})
			for sev := 2; sev <= 4; sev++ {
				hi, okHi := m[sev-1]
				lo, okLo := m[sev]
				if okHi && okLo && lo >= hi {
					d.Errorf(v, p, "severity %d starts at priority %d, not below severity %d's %d", sev, lo, sev-1, hi)
				}
			}
			s.severity = m
		},
	}
	for key, st := range lists {
		fields[key] = func(v *yaml.Node, p string) {
			var names []string
			if !d.Strings(v, p, &names) {
				return
			}
			for _, name := range names {
				if name == "deleted" {
					d.Errorf(v, p, "deleted tickets are no cases: leave deleted out")
					return
				}
			}
			given[st] = names
		}
	}
	d.Fields(n, path, fields)
	if len(given) == 0 {
		return
	}
	// A list given replaces that list's default; the others keep theirs.
	statuses := map[string]sla.Status{}
	for name, st := range s.statuses {
		if _, ok := given[st]; !ok {
			statuses[name] = st
		}
	}
	keys := slices.Sorted(maps.Keys(lists))
	for _, key := range keys {
		st := lists[key]
		for _, name := range given[st] {
			if prev, ok := statuses[name]; ok && prev != st {
				d.Errorf(n, strictyaml.Join(path, key), "status %q is in two lists (%s and %s)", name, prev, st)
				continue
			}
			statuses[name] = st
		}
	}
	s.statuses = statuses
}

// Sync reads the tickets the SLA needs (with an empty cursor) or those
// changed since the cursor, and the ids of those deleted or merged since.
func (s *source) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	full := cursor == ""
	var since, from time.Time
	if full {
		now := s.now().UTC()
		since = time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	} else {
		c, err := time.Parse(time.RFC3339, cursor)
		if err != nil {
			s.logger.Warn("Unreadable cursor: syncing everything again", "cursor", cursor)
			return s.Sync(ctx, "")
		}
		since, from = c, c.Add(-s.overlap)
	}
	var query string
	if full {
		query = "(Status = '__Active__' OR Resolved >= " + s.date(since) + ")"
	} else {
		query = "LastUpdated >= " + s.date(from)
	}
	tickets, err := s.search(ctx, query)
	if err != nil {
		return sources.Batch{}, err
	}
	var gone []string
	if !full {
		if gone, err = s.removed(ctx, from); err != nil {
			return sources.Batch{}, err
		}
	}
	s.mu.Lock()
	skip := map[string]time.Time{}
	if !full && s.seenFor == cursor {
		skip = s.seen
	}
	s.mu.Unlock()

	b := sources.Batch{Full: full}
	last := since
	if full {
		last = time.Time{}
	}
	seen := map[string]time.Time{}
	returned := map[string]bool{}
	for _, t := range tickets {
		id := string(t.ID)
		returned[id] = true
		lu := t.LastUpdated.t
		if lu.After(last) {
			last = lu
		}
		if prev, ok := skip[id]; ok && prev.Equal(lu) {
			seen[id] = lu
			continue
		}
		c, err := s.build(ctx, t)
		if err != nil {
			var pe sources.Problem
			if errors.As(err, &pe) {
				b.Problems = append(b.Problems, err)
				continue
			}
			return sources.Batch{}, err
		}
		seen[id] = lu
		if full && c.Status.Done() && c.Resolved.Before(since) {
			continue
		}
		b.Cases = append(b.Cases, c)
	}
	for _, id := range gone {
		if !returned[id] { // deleted, then brought back: it is a case again
			b.Deleted = append(b.Deleted, id)
		}
	}
	if last.IsZero() {
		last = s.now()
	}
	b.Cursor = last.UTC().Format(time.RFC3339)
	// Only the tickets the next Sync's overlap reads again are worth
	// remembering.
	keep := last.Add(-s.overlap)
	for id, lu := range seen {
		if lu.Before(keep) {
			delete(seen, id)
		}
	}
	s.mu.Lock()
	s.seenFor, s.seen = b.Cursor, seen
	s.mu.Unlock()
	return b, nil
}

// Window reads the tickets created before to that were active at from or
// resolved since.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	tickets, err := s.search(ctx, "Created < "+s.date(to)+" AND (Status = '__Active__' OR Resolved >= "+s.date(from)+")")
	if err != nil {
		return nil, err
	}
	var out []sla.Case
	for _, t := range tickets {
		c, err := s.build(ctx, t)
		if err != nil {
			var pe sources.Problem
			if errors.As(err, &pe) {
				s.logger.Warn("Skipped a ticket", "source_name", s.name, "err", err)
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

// date is an instant as a TicketSQL date: RT reads it in the API user's
// time zone and ignores any zone written in it.
func (s *source) date(t time.Time) string {
	return "'" + t.In(s.tz).Format(sqlTimestamp) + "'"
}

// page is one page of a REST2 collection.
type page[T any] struct {
	Count int `json:"count"`
	Page  int `json:"page"`
	// Pages is null when RT does not count for this user, and 0.0 (a
	// float) when nothing matches.
	Pages *float64 `json:"pages"`
	Items []T      `json:"items"`
}

// collect reads every page of a collection. RT counts the pages for some
// users only; without a count, a short page is the last.
func collect[T any](ctx context.Context, s *source, path string, q url.Values, what string) ([]T, error) {
	var all []T
	q.Set("per_page", strconv.Itoa(s.pageSize))
	for n := 1; ; n++ {
		q.Set("page", strconv.Itoa(n))
		var p page[T]
		if _, err := s.client.Do(ctx, rest.Request{Path: path, Query: q}, &p); err != nil {
			return nil, fmt.Errorf("reading %s, page %d: %w", what, n, err)
		}
		all = append(all, p.Items...)
		if p.Pages != nil && float64(n) >= *p.Pages || p.Pages == nil && len(p.Items) < s.pageSize {
			return all, nil
		}
	}
}

// ticketFields are the fields the ticket search asks for.
const ticketFields = "Status,Created,Resolved,LastUpdated,Priority,SLA,Due,Owner,Requestor"

// search reads the tickets matching query within the source's
// restriction, oldest first.
func (s *source) search(ctx context.Context, query string) ([]ticket, error) {
	if s.restrict != "" {
		query = s.restrict + " AND " + query
	}
	fields := ticketFields
	q := url.Values{"query": {query}, "orderby": {"id"}, "order": {"ASC"}}
	if s.customerF != "" {
		fields += ",CustomFields"
	} else {
		q.Set("fields[Requestor]", "Organization")
	}
	q.Set("fields", fields)
	return collect[ticket](ctx, s, ticketsPath, q, "tickets")
}

// removed are the ids of the tickets deleted, or merged into another,
// since from.
func (s *source) removed(ctx context.Context, from time.Time) ([]string, error) {
	query := "ObjectType = 'RT::Ticket' AND ((Type = 'Status' AND NewValue = 'deleted') OR " +
		"(Type = 'AddLink' AND Field = 'MergedInto')) AND Created >= " + s.date(from)
	if len(s.queues) > 0 {
		qs := make([]string, len(s.queues))
		for i, q := range s.queues {
			qs[i] = "TicketQueue = " + quote(q)
		}
		query += " AND (" + strings.Join(qs, " OR ") + ")"
	}
	q := url.Values{"query": {query}, "fields": {"ObjectId,Type,NewValue"}, "orderby": {"id"}, "order": {"ASC"}}
	txns, err := collect[removal](ctx, s, txnsPath, q, "deletions")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range txns {
		id := string(t.ObjectID)
		// A merge links both tickets to the one that stays: only the
		// other one is gone.
		if t.Type == "AddLink" && strings.HasSuffix(t.NewValue, "/ticket/"+id) {
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

type removal struct {
	ObjectID flexString `json:"ObjectId"`
	Kind     string     `json:"type"` // see txn
	Type     string     `json:"Type"`
	NewValue string     `json:"NewValue"`
}

// flexString is a JSON string or number: REST2 gives ids and numbers as
// strings in lists and as numbers in single records.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number, got %s", b)
	}
	*f = flexString(n.String())
	return nil
}

// rtTime is an RT date: ISO 8601 UTC, with 1970-01-01T00:00:00Z (or
// null) for none.
type rtTime struct{ t time.Time }

func (r *rtTime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a date, got %s", b)
	}
	if s == nil || *s == "" {
		r.t = time.Time{}
		return nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return err
	}
	if t.Unix() <= 0 {
		t = time.Time{}
	}
	r.t = t
	return nil
}

type principal struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Organization string `json:"Organization"`
}

// customFields are a ticket's custom fields: REST2 gives "" when the
// ticket has none.
type customFields []struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

func (c *customFields) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' || string(b) == "null" {
		*c = nil
		return nil
	}
	type plain customFields
	return json.Unmarshal(b, (*plain)(c))
}

// ticket is the part of an RT ticket the source reads.
type ticket struct {
	ID           flexString   `json:"id"`
	Status       string       `json:"Status"`
	Created      rtTime       `json:"Created"`
	Resolved     rtTime       `json:"Resolved"`
	LastUpdated  rtTime       `json:"LastUpdated"`
	Due          rtTime       `json:"Due"`
	Priority     flexString   `json:"Priority"`
	SLA          *string      `json:"SLA"`
	Owner        principal    `json:"Owner"`
	Requestor    []principal  `json:"Requestor"`
	CustomFields customFields `json:"CustomFields"`
}

// txn is a history item. Kind holds the item's "type" (always
// "transaction"): without it encoding/json, which matches keys in any
// case, could fill Type from it.
type txn struct {
	ID       flexString `json:"id"`
	Kind     string     `json:"type"`
	Type     string     `json:"Type"`
	Creator  principal  `json:"Creator"`
	Created  rtTime     `json:"Created"`
	Field    string     `json:"Field"`
	OldValue string     `json:"OldValue"`
	NewValue string     `json:"NewValue"`
}

// status is the normalised status of an RT status.
func (s *source) status(name string) sla.Status {
	if st, ok := s.statuses[name]; ok {
		return st
	}
	return sla.StatusOpen
}

// severityOf maps an RT priority; ok is false when it is not a number.
func (s *source) severityOf(p string) (sev int, ok bool) {
	n, err := strconv.Atoi(strings.TrimSpace(p))
	if err != nil {
		return 0, false
	}
	best := -1
	for sv, min := range s.severity {
		if n >= min && (best < 0 || min > s.severity[best]) {
			best = sv
		}
	}
	if best < 0 {
		return 0, true
	}
	return best, true
}

// tier is the policy tier of an RT SLA level, or "".
func (s *source) tier(level string) string {
	if level == "" {
		return ""
	}
	if t, ok := s.tiers[strings.ToLower(level)]; ok {
		return t
	}
	return s.policyTier(level)
}

// policyTier is the policy's tier named like an SLA level in any case,
// or "".
func (s *source) policyTier(level string) string {
	for _, t := range s.policyTierNames {
		if strings.EqualFold(t, level) {
			return t
		}
	}
	return ""
}

// build makes a ticket's case from it and its history. A ticket that is
// not a valid case is a problem error; a failed request another error.
func (s *source) build(ctx context.Context, t ticket) (sla.Case, error) {
	id := string(t.ID)
	bad := func(format string, args ...any) (sla.Case, error) {
		return sla.Case{}, sources.Problem{Err: fmt.Errorf("ticket %s: %s", id, fmt.Sprintf(format, args...))}
	}
	if id == "" {
		return bad("no id")
	}
	c := sla.Case{Source: s.name, ID: id, URL: s.base + "/Ticket/Display.html?id=" + id,
		Status: s.status(t.Status), Created: t.Created.t, SourceDue: t.Due.t}
	if c.Status.Done() {
		c.Resolved = t.Resolved.t
	}
	if t.Priority != "" {
		sev, ok := s.severityOf(string(t.Priority))
		if !ok {
			return bad("priority: %q is not a number", t.Priority)
		}
		c.Severity = sev
	}
	if t.SLA != nil {
		c.Tier = s.tier(*t.SLA)
	}
	if s.customerF != "" {
		for _, f := range t.CustomFields {
			if f.Name == s.customerF && len(f.Values) > 0 {
				c.Customer = f.Values[0]
				break
			}
		}
	} else {
		for _, r := range t.Requestor {
			if r.Organization != "" {
				c.Customer = r.Organization
				break
			}
		}
	}
	h, err := s.history(ctx, id)
	if err != nil {
		var se *rest.StatusError
		if errors.As(err, &se) && se.Code == http.StatusNotFound {
			return bad("history: %v", err)
		}
		return sla.Case{}, err
	}
	if err := s.applyHistory(&c, t, h); err != nil {
		return bad("%v", err)
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return bad("%v", err)
	}
	return c, nil
}

const historyFields = "Type,Creator,Created,Field,OldValue,NewValue"

// history reads a ticket's transactions.
func (s *source) history(ctx context.Context, id string) ([]txn, error) {
	q := url.Values{"fields": {historyFields}}
	return collect[txn](ctx, s, apiPath+"/ticket/"+id+"/history", q, "the history of ticket "+id)
}

// applyHistory sets a case's first response and its status and severity
// histories from the ticket's transactions.
func (s *source) applyHistory(c *sla.Case, t ticket, h []txn) error {
	sort.SliceStable(h, func(i, j int) bool { return h[i].Created.t.Before(h[j].Created.t) })
	requestors := map[string]bool{}
	for _, r := range t.Requestor {
		requestors[r.ID] = true
	}
	owner := t.Owner.ID
	firstStatus, firstSeverity := true, true
	for _, x := range h {
		at := x.Created.t
		if at.IsZero() {
			return fmt.Errorf("transaction %s: no Created", x.ID)
		}
		switch {
		case x.Type == "Correspond":
			by := x.Creator.ID
			if c.FirstResponse.IsZero() && (!requestors[by] || by == owner && owner != "Nobody") {
				c.FirstResponse = at
			}
		case x.Type == "Status" || x.Type == "Set" && x.Field == "Status":
			if x.NewValue == "deleted" {
				continue
			}
			if firstStatus {
				// The status a ticket was created with, when it is not open.
				firstStatus = false
				if old := s.status(x.OldValue); old != sla.StatusOpen && x.OldValue != "" {
					c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: c.Created, Status: old})
				}
			}
			c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: at, Status: s.status(x.NewValue)})
		case x.Type == "Set" && x.Field == "Priority":
			sev, ok := s.severityOf(x.NewValue)
			if !ok {
				return fmt.Errorf("transaction %s: priority %q is not a number", x.ID, x.NewValue)
			}
			if firstSeverity {
				firstSeverity = false
				if old, ok := s.severityOf(x.OldValue); ok && old != 0 {
					c.SeverityHistory = append(c.SeverityHistory, sla.SeverityChange{At: c.Created, Severity: old})
				}
			}
			if sev != 0 {
				c.SeverityHistory = append(c.SeverityHistory, sla.SeverityChange{At: at, Severity: sev})
			}
		}
	}
	return nil
}
