// Package freshdesk is the source that reads tickets from Freshdesk
// through its REST API v2: the ticket list (GET /api/v2/tickets with
// updated_since, ordered by updated_at ascending, 100 a page,
// requester and stats embedded, company names looked up once each; pages
// followed through the Link header)
// finds new and changed tickets, and, for those whose stats lack
// first_responded_at, the ticket's conversations
// (GET /api/v2/tickets/{id}/conversations) give its first public reply by
// the support side (private false, incoming false).
//
// The first Sync lists from the start of the previous month and returns
// every ticket still open or resolved since then, with Full set; its
// cursor is the latest updated_at seen, and each later Sync lists from the
// cursor less the overlap and returns only what changed. The list stops at
// page 300: the source then lists again from the last updated_at it read.
//
// Freshdesk keeps no status history in the ticket: the source builds one
// from the ticket's stats, which hold only the latest instant of each
// kind. Its limits:
//   - only the current pending (waiting) or on-hold stretch is known, from
//     pending_since (status 3) or status_updated_at (any other waiting or
//     hold status); earlier pauses of a ticket are lost, so a ticket paused
//     and resumed counts its past pause as running time;
//   - a resolution is resolved_at, a reopening reopened_at, a closing
//     closed_at: a ticket resolved and reopened several times keeps the
//     latest of each only;
//   - priority changes are not kept: the severity is the current one, with
//     no severity history;
//   - deleted and spam tickets are not listed, so a later Sync does not
//     report them as Deleted;
//   - an open ticket not updated since the start of the previous month is
//     not in the first Sync's list (nor in a Window's).
package freshdesk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

const ticketsPath = "/api/v2/tickets"

// DefaultSeverity maps Freshdesk priorities to severities.
var DefaultSeverity = map[string]int{"urgent": 1, "high": 2, "medium": 3, "low": 4}

// priorities are Freshdesk's priority codes.
var priorities = map[int]string{1: "low", 2: "medium", 3: "high", 4: "urgent"}

type source struct {
	name     string
	base     string // https://acme.freshdesk.com, no trailing slash
	overlap  time.Duration
	tierF    string // custom field name; "" none
	tzF      string
	severity map[string]int
	waiting  []int // statuses that are pending_customer
	hold     []int // statuses that are on_hold
	perPage  int   // 100, Freshdesk's most; tests lower it
	maxPages int   // 300: the list answers no page beyond
	now      func() time.Time
	logger   *slog.Logger

	opts   rest.Options
	client *rest.Client

	// companies caches company names by id: the ticket list cannot embed
	// them (its include takes requester, stats and description only), and
	// a company is looked up once per process.
	mu        sync.Mutex
	companies map[int64]string
}

// New is the sources.Factory of `type: freshdesk`. Keys: url (required),
// api_key or api_key_file (basic auth, the key as user and X as password);
// requests_per_minute; overlap (default 5m); mapping: tier_field and
// timezone_field (custom field names such as cf_tier), severity (priority
// to severity, default urgent 1, high 2, medium 3, low 4),
// waiting_statuses (status codes that are pending_customer, default [3])
// and hold_statuses (codes that are on_hold, default none). The customer
// is the ticket's company name.
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{name: env.Name, overlap: 5 * time.Minute, severity: DefaultSeverity,
		waiting: []int{3}, perPage: 100, maxPages: 300, now: env.Now, logger: env.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	var key string
	ep := rest.Endpoint{Overlap: s.overlap}
	own := map[string]func(*yaml.Node, string){
		"mapping": func(v *yaml.Node, p string) { s.decodeMapping(d, v, p) },
	}
	for k, h := range d.SecretFields("api_key", env.Dir, &key) {
		own[k] = h
	}
	maps.Copy(own, ep.Fields(d, "the helpdesk's address", "https://acme.freshdesk.com"))
	sources.Fields(d, n, path, own)
	ep.Require(d, n, path, "the helpdesk's address", "https://acme.freshdesk.com")
	s.base, s.overlap = ep.URL, ep.Overlap
	rpm := ep.RequestsPerMinute
	if key == "" {
		d.Errorf(n, path, "missing credentials: api_key (or api_key_file)")
	}
	s.opts = rest.Options{BaseURL: s.base, Auth: rest.Basic{User: key, Password: "X"}, RequestsPerMinute: rpm,
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

func (s *source) decodeMapping(d *strictyaml.Decoder, n *yaml.Node, path string) {
	field := func(dst *string) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) {
			if d.String(v, p, dst) && *dst == "" {
				d.Errorf(v, p, "want a custom field's name such as cf_tier")
			}
		}
	}
	codes := func(dst *[]int) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) {
			var out []int
			d.Seq(v, p, func(_ int, e *yaml.Node, ep string) {
				var c int
				if !d.Int(e, ep, &c) {
					return
				}
				if c < 2 {
					d.Errorf(e, ep, "status %d is not a Freshdesk status code (2 Open, 3 Pending, 4 Resolved, 5 Closed, or a custom one)", c)
					return
				}
				if c == 2 || c == 4 || c == 5 {
					d.Errorf(e, ep, "status %d (Open, Resolved or Closed) cannot wait or be on hold", c)
					return
				}
				out = append(out, c)
			})
			*dst = out
		}
	}
	d.Fields(n, path, map[string]func(*yaml.Node, string){
		"tier_field":       field(&s.tierF),
		"timezone_field":   field(&s.tzF),
		"waiting_statuses": codes(&s.waiting),
		"hold_statuses":    codes(&s.hold),
		"severity": func(v *yaml.Node, p string) {
			m := map[string]int{}
			d.Map(v, p, func(key string, _, val *yaml.Node) {
				kp := strictyaml.Join(p, key)
				if _, ok := DefaultSeverity[key]; !ok {
					d.Errorf(val, kp, "unknown priority %q: want urgent, high, medium or low", key)
					return
				}
				var sev int
				if d.Int(val, kp, &sev) && (sev < 1 || sev > 4) {
					d.Errorf(val, kp, "severity %d is not between 1 and 4", sev)
					return
				}
				m[key] = sev
			})
			for k, v := range DefaultSeverity {
				if _, ok := m[k]; !ok {
					m[k] = v
				}
			}
			s.severity = m
		},
	})
	for _, c := range s.hold {
		if slices.Contains(s.waiting, c) {
			d.Errorf(n, strictyaml.Join(path, "hold_statuses"), "status %d is also in waiting_statuses", c)
		}
	}
}

// Sync lists the tickets updated since the cursor less the overlap (or,
// without one, since the start of the previous month).
func (s *source) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	full := cursor == ""
	var since, from time.Time
	if full {
		now := s.now().UTC()
		since = time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
		from = since
	} else {
		c, err := time.Parse(time.RFC3339, cursor)
		if err != nil {
			s.logger.Warn("Unreadable cursor: syncing everything again", "cursor", cursor)
			return s.Sync(ctx, "")
		}
		since = c
		from = c.Add(-s.overlap)
	}
	tickets, err := s.list(ctx, from)
	if err != nil {
		return sources.Batch{}, err
	}
	b := sources.Batch{Full: full}
	last := since // the cursor: the latest updated_at seen
	for _, t := range tickets {
		if t.UpdatedAt.After(last) {
			last = t.UpdatedAt
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
		if full && c.Status.Done() && c.Resolved.Before(since) {
			continue
		}
		b.Cases = append(b.Cases, c)
	}
	b.Cursor = last.UTC().Format(time.RFC3339)
	return b, nil
}

// Window lists the tickets updated since from (less the overlap) and keeps
// those created before to and not resolved before from.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	tickets, err := s.list(ctx, from.Add(-s.overlap))
	if err != nil {
		return nil, err
	}
	var out []sla.Case
	for _, t := range tickets {
		if !t.CreatedAt.Before(to) {
			continue
		}
		c, err := s.build(ctx, t)
		if err != nil {
			var pe sources.Problem
			if errors.As(err, &pe) {
				s.logger.Warn("Skipped a ticket", "err", err)
				continue
			}
			return nil, err
		}
		if !c.Resolved.IsZero() && c.Resolved.Before(from) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// ticket is the part of a Freshdesk ticket the source reads.
type ticket struct {
	ID           int64          `json:"id"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	Status       int            `json:"status"`
	Priority     int            `json:"priority"`
	Type         *string        `json:"type"`
	Tags         []string       `json:"tags"`
	CompanyID    *int64         `json:"company_id"`
	CustomFields map[string]any `json:"custom_fields"`
	Stats        struct {
		FirstRespondedAt *time.Time `json:"first_responded_at"`
		StatusUpdatedAt  *time.Time `json:"status_updated_at"`
		ReopenedAt       *time.Time `json:"reopened_at"`
		ResolvedAt       *time.Time `json:"resolved_at"`
		ClosedAt         *time.Time `json:"closed_at"`
		PendingSince     *time.Time `json:"pending_since"`
	} `json:"stats"`
}

// company is a company's name, from the cache or GET /api/v2/companies/{id};
// a company that no longer exists is named by its id.
func (s *source) company(ctx context.Context, id int64) (string, error) {
	s.mu.Lock()
	name, ok := s.companies[id]
	s.mu.Unlock()
	if ok {
		return name, nil
	}
	var c struct {
		Name string `json:"name"`
	}
	_, err := s.client.Do(ctx, rest.Request{Path: "/api/v2/companies/" + strconv.FormatInt(id, 10)}, &c)
	var se *rest.StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusNotFound:
		c.Name = strconv.FormatInt(id, 10)
	case err != nil:
		return "", fmt.Errorf("reading company %d: %w", id, err)
	case c.Name == "":
		c.Name = strconv.FormatInt(id, 10)
	}
	s.mu.Lock()
	if s.companies == nil {
		s.companies = map[int64]string{}
	}
	s.companies[id] = c.Name
	s.mu.Unlock()
	return c.Name, nil
}

// list reads every ticket updated since from, oldest update first,
// following the Link header; past the list's last page it lists again from
// the last updated_at read. A ticket listed twice keeps its latest version.
func (s *source) list(ctx context.Context, from time.Time) ([]ticket, error) {
	var tickets []ticket
	at := map[int64]int{}
	q := func(since time.Time) url.Values {
		return url.Values{"updated_since": {since.UTC().Format(time.RFC3339)}, "order_by": {"updated_at"},
			"order_type": {"asc"}, "per_page": {strconv.Itoa(s.perPage)}, "include": {"stats,requester"}}
	}
	req := rest.Request{Path: ticketsPath, Query: q(from)}
	start := from
	for page := 1; ; page++ {
		var p []ticket
		h, err := s.client.Do(ctx, req, &p)
		if err != nil {
			return nil, fmt.Errorf("listing tickets: %w", err)
		}
		for _, t := range p {
			if i, ok := at[t.ID]; ok {
				tickets[i] = t
				continue
			}
			at[t.ID] = len(tickets)
			tickets = append(tickets, t)
		}
		next := rest.NextLink(h)
		if page < s.maxPages {
			if next == "" {
				return tickets, nil
			}
			req = rest.Request{Path: next}
			continue
		}
		if next == "" && len(p) < s.perPage {
			return tickets, nil
		}
		// The last page the list answers (300), full, with or without a
		// Link to a page it refuses: start again from the last update
		// read (its tickets come again, and are kept once).
		if len(p) == 0 || !p[len(p)-1].UpdatedAt.After(start) {
			return nil, fmt.Errorf("listing tickets: more than %d pages of tickets updated at %s", s.maxPages, start.UTC().Format(time.RFC3339))
		}
		start, page = p[len(p)-1].UpdatedAt, 0
		req = rest.Request{Path: ticketsPath, Query: q(start)}
	}
}

// status is the normalised status of a Freshdesk status code: any code not
// resolved, closed, waiting or on hold is open.
func (s *source) status(code int) sla.Status {
	switch {
	case code == 4:
		return sla.StatusResolved
	case code == 5:
		return sla.StatusClosed
	case slices.Contains(s.waiting, code):
		return sla.StatusPendingCustomer
	case slices.Contains(s.hold, code):
		return sla.StatusOnHold
	}
	return sla.StatusOpen
}

// build makes a ticket's case. A ticket that is not a valid case is a
// problem error; a failed request another error.
func (s *source) build(ctx context.Context, t ticket) (sla.Case, error) {
	id := strconv.FormatInt(t.ID, 10)
	bad := func(format string, args ...any) (sla.Case, error) {
		return sla.Case{}, sources.Problem{Err: fmt.Errorf("ticket %s: %s", id, fmt.Sprintf(format, args...))}
	}
	if t.Status < 2 {
		return bad("unknown status %d", t.Status)
	}
	c := sla.Case{Source: s.name, ID: id, URL: s.base + "/a/tickets/" + id,
		Status: s.status(t.Status), Created: t.CreatedAt, Labels: t.Tags}
	if t.Priority != 0 {
		name, ok := priorities[t.Priority]
		if !ok {
			return bad("unknown priority %d", t.Priority)
		}
		c.Severity = s.severity[name]
	}
	if t.Type != nil {
		c.Type = *t.Type
	}
	if t.CompanyID != nil {
		name, err := s.company(ctx, *t.CompanyID)
		if err != nil {
			return sla.Case{}, err
		}
		c.Customer = name
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{s.tierF, &c.Tier}, {s.tzF, &c.Timezone}} {
		if f.name == "" || t.CustomFields[f.name] == nil {
			continue
		}
		v, ok := t.CustomFields[f.name].(string)
		if !ok {
			return bad("custom field %s: not a text value", f.name)
		}
		*f.dst = v
	}
	c.StatusHistory = s.history(t, c.Status)
	if t.Stats.FirstRespondedAt != nil {
		c.FirstResponse = *t.Stats.FirstRespondedAt
	} else {
		fr, err := s.firstReply(ctx, t.ID)
		if err != nil {
			var se *rest.StatusError
			if errors.As(err, &se) && se.Code == http.StatusNotFound {
				return bad("conversations: %v", err)
			}
			return sla.Case{}, err
		}
		c.FirstResponse = fr
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

// history builds a status history from a ticket's stats (see the package
// comment for what it cannot know): open from creation; resolved at
// resolved_at; open again at reopened_at; closed at closed_at; and the
// current status from when it began (pending_since for a waiting ticket,
// else status_updated_at), never before an earlier entry.
func (s *source) history(t ticket, st sla.Status) []sla.StatusChange {
	h := []sla.StatusChange{{At: t.CreatedAt, Status: sla.StatusOpen}}
	add := func(at *time.Time, to sla.Status) {
		if at == nil || at.IsZero() {
			return
		}
		a := *at
		if last := h[len(h)-1]; a.Before(last.At) {
			a = last.At
		}
		if h[len(h)-1].Status == to {
			return
		}
		h = append(h, sla.StatusChange{At: a, Status: to})
	}
	stats := t.Stats
	reopened := stats.ReopenedAt != nil && stats.ResolvedAt != nil && stats.ReopenedAt.After(*stats.ResolvedAt)
	switch st {
	case sla.StatusResolved, sla.StatusClosed:
		if stats.ResolvedAt != nil {
			add(stats.ResolvedAt, sla.StatusResolved)
		} else if st == sla.StatusResolved {
			add(stats.StatusUpdatedAt, sla.StatusResolved)
		}
		if st == sla.StatusClosed {
			if stats.ClosedAt != nil {
				add(stats.ClosedAt, sla.StatusClosed)
			} else {
				add(stats.StatusUpdatedAt, sla.StatusClosed)
			}
		}
	default:
		if reopened {
			add(stats.ResolvedAt, sla.StatusResolved)
			add(stats.ReopenedAt, sla.StatusOpen)
		}
		since := stats.StatusUpdatedAt
		if st == sla.StatusPendingCustomer && t.Status == 3 && stats.PendingSince != nil {
			since = stats.PendingSince
		}
		add(since, st)
	}
	return h
}

type conversation struct {
	Private   bool      `json:"private"`
	Incoming  bool      `json:"incoming"`
	UserID    int64     `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
}

// firstReply is the instant of a ticket's first public, outgoing
// conversation (a reply by the support side), or zero.
func (s *source) firstReply(ctx context.Context, id int64) (time.Time, error) {
	req := rest.Request{Path: fmt.Sprintf("%s/%d/conversations", ticketsPath, id), Query: url.Values{"per_page": {strconv.Itoa(s.perPage)}}}
	var first time.Time
	for {
		var p []conversation
		h, err := s.client.Do(ctx, req, &p)
		if err != nil {
			return time.Time{}, fmt.Errorf("ticket %d: reading conversations: %w", id, err)
		}
		for _, c := range p {
			if !c.Private && !c.Incoming && (first.IsZero() || c.CreatedAt.Before(first)) {
				first = c.CreatedAt
			}
		}
		next := rest.NextLink(h)
		if next == "" {
			return first, nil
		}
		req = rest.Request{Path: next}
	}
}
