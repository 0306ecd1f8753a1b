// Package zendesk is the source that reads tickets from Zendesk Support
// through its REST API: the cursor-based incremental ticket export
// (GET /api/v2/incremental/tickets/cursor.json, organizations side-loaded)
// finds new and changed tickets, and each one's audits
// (GET /api/v2/tickets/{id}/audits.json) give its status and priority
// history and its first public reply by someone other than the requester.
//
// The first Sync exports from the start of the previous month (less the
// overlap), adds the open tickets untouched since then (found with the
// export of search results, GET /api/v2/search/export.json, their
// organizations read with /api/v2/organizations/show_many.json) and
// returns every ticket still open or resolved since then, with Full set;
// its cursor is Zendesk's own after_cursor, so each later Sync returns only
// the tickets changed since, and the ids of deleted ones. A cursor Zendesk
// refuses (400 or 422) starts a full Sync again.
package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
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
	exportPath       = "/api/v2/incremental/tickets/cursor.json"
	searchExportPath = "/api/v2/search/export.json"
	orgsPath         = "/api/v2/organizations/show_many.json"
)

// DefaultSeverity maps Zendesk priorities to severities.
var DefaultSeverity = map[string]int{"urgent": 1, "high": 2, "normal": 3, "low": 4}

type source struct {
	name     string
	base     string // https://acme.zendesk.com, no trailing slash
	overlap  time.Duration
	tierF    int64 // 0: none
	tzF      int64 // 0: none
	severity map[string]int
	customer string // organization or none
	now      func() time.Time
	logger   *slog.Logger

	opts   rest.Options
	client *rest.Client
}

// New is the sources.Factory of `type: zendesk`. Keys: url (required),
// email with token or token_file (API token, basic "email/token"), or
// oauth_token or oauth_token_file (bearer); requests_per_minute; overlap
// (default 5m); mapping: tier_field and timezone_field (custom field ids),
// severity (priority to severity, default urgent 1, high 2, normal 3,
// low 4) and customer (organization, the default, or none).
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{name: env.Name, overlap: 5 * time.Minute, severity: DefaultSeverity,
		customer: "organization", now: env.Now, logger: env.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	var email, token, oauth string
	ep := rest.Endpoint{Overlap: s.overlap}
	own := map[string]func(*yaml.Node, string){
		"email":   func(v *yaml.Node, p string) { d.String(v, p, &email) },
		"mapping": func(v *yaml.Node, p string) { s.decodeMapping(d, v, p) },
	}
	for k, h := range d.SecretFields("token", env.Dir, &token) {
		own[k] = h
	}
	for k, h := range d.SecretFields("oauth_token", env.Dir, &oauth) {
		own[k] = h
	}
	maps.Copy(own, ep.Fields(d, "the account's address", "https://acme.zendesk.com"))
	sources.Fields(d, n, path, own)
	ep.Require(d, n, path, "the account's address", "https://acme.zendesk.com")
	s.base, s.overlap = ep.URL, ep.Overlap
	rpm := ep.RequestsPerMinute
	var auth rest.Auth
	switch {
	case token != "" && oauth != "":
		d.Errorf(n, path, "give either an API token (email and token) or an oauth_token, not both")
	case token != "":
		if email == "" {
			d.Errorf(n, strictyaml.Join(path, "email"), "missing: the agent's e-mail that goes with the API token")
		}
		auth = rest.Basic{User: email + "/token", Password: token}
	case oauth != "":
		auth = rest.Bearer{Token: oauth}
	default:
		d.Errorf(n, path, "missing credentials: email with token (or token_file), or oauth_token (or oauth_token_file)")
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

func (s *source) decodeMapping(d *strictyaml.Decoder, n *yaml.Node, path string) {
	field := func(dst *int64) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) {
			var i int
			if d.Int(v, p, &i) && i <= 0 {
				d.Errorf(v, p, "want a custom field's id")
				return
			}
			*dst = int64(i)
		}
	}
	d.Fields(n, path, map[string]func(*yaml.Node, string){
		"tier_field":     field(&s.tierF),
		"timezone_field": field(&s.tzF),
		"customer": func(v *yaml.Node, p string) {
			var c string
			if !d.String(v, p, &c) {
				return
			}
			if c != "organization" && c != "none" {
				d.Errorf(v, p, "unknown %q: want organization or none", c)
				return
			}
			s.customer = c
		},
		"severity": func(v *yaml.Node, p string) {
			m := map[string]int{}
			d.Map(v, p, func(key string, _, val *yaml.Node) {
				kp := strictyaml.Join(p, key)
				if _, ok := DefaultSeverity[key]; !ok {
					d.Errorf(val, kp, "unknown priority %q: want urgent, high, normal or low", key)
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
}

// Sync exports from the cursor (or, without one, from the start of the
// previous month) and fetches the audits of every ticket it returns.
func (s *source) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	full := cursor == ""
	var since time.Time
	q := url.Values{"include": {"organizations"}}
	if full {
		now := s.now().UTC()
		since = time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
		q.Set("start_time", strconv.FormatInt(since.Add(-s.overlap).Unix(), 10))
	} else {
		q.Set("cursor", cursor)
	}
	tickets, orgs, next, err := s.export(ctx, q)
	var se *rest.StatusError
	if !full && errors.As(err, &se) && (se.Code == http.StatusBadRequest || se.Code == http.StatusUnprocessableEntity) {
		// Zendesk refuses the cursor (the account was moved, or the
		// cursor is not one of its own): start again rather than fail
		// every poll for ever.
		s.logger.Warn("Zendesk refused the export cursor: syncing everything again", "err", err)
		return s.Sync(ctx, "")
	}
	if err != nil {
		return sources.Batch{}, err
	}
	if full {
		// Open tickets nobody touched since then are not in the export.
		if tickets, err = s.staleOpen(ctx, since, tickets, orgs); err != nil {
			return sources.Batch{}, err
		}
	}
	b := sources.Batch{Full: full, Cursor: next}
	for _, t := range tickets {
		if t.Status == "deleted" {
			if !full {
				b.Deleted = append(b.Deleted, strconv.FormatInt(t.ID, 10))
			}
			continue
		}
		c, err := s.build(ctx, t, orgs)
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
	return b, nil
}

// Window exports the tickets changed since from (less the overlap), adds
// the open ones untouched since, and keeps those created before to and not
// resolved before from.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	q := url.Values{"include": {"organizations"}, "start_time": {strconv.FormatInt(from.Add(-s.overlap).Unix(), 10)}}
	tickets, orgs, _, err := s.export(ctx, q)
	if err != nil {
		return nil, err
	}
	// Open tickets untouched since from were open all along.
	if tickets, err = s.staleOpen(ctx, from, tickets, orgs); err != nil {
		return nil, err
	}
	var out []sla.Case
	for _, t := range tickets {
		if t.Status == "deleted" || !t.CreatedAt.Before(to) {
			continue
		}
		c, err := s.build(ctx, t, orgs)
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

// ticket is the part of a Zendesk ticket the source reads.
type ticket struct {
	ID             int64     `json:"id"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Status         string    `json:"status"`
	Priority       *string   `json:"priority"`
	Type           *string   `json:"type"`
	Tags           []string  `json:"tags"`
	OrganizationID *int64    `json:"organization_id"`
	RequesterID    int64     `json:"requester_id"`
	CustomFields   []struct {
		ID    int64           `json:"id"`
		Value json.RawMessage `json:"value"`
	} `json:"custom_fields"`
}

type exportPage struct {
	Tickets       []ticket `json:"tickets"`
	Organizations []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"organizations"`
	AfterCursor *string `json:"after_cursor"`
	EndOfStream bool    `json:"end_of_stream"`
}

// export follows the export's pages until end_of_stream. It returns the
// tickets (the last version of each), the side-loaded organizations' names
// and the cursor to continue from.
func (s *source) export(ctx context.Context, q url.Values) ([]ticket, map[int64]string, string, error) {
	var tickets []ticket
	at := map[int64]int{}
	orgs := map[int64]string{}
	cursor := q.Get("cursor")
	for page := 0; ; page++ {
		var p exportPage
		if _, err := s.client.Do(ctx, rest.Request{Path: exportPath, Query: q}, &p); err != nil {
			return nil, nil, "", fmt.Errorf("exporting tickets: %w", err)
		}
		for _, t := range p.Tickets {
			if i, ok := at[t.ID]; ok {
				tickets[i] = t
				continue
			}
			at[t.ID] = len(tickets)
			tickets = append(tickets, t)
		}
		for _, o := range p.Organizations {
			orgs[o.ID] = o.Name
		}
		if p.AfterCursor != nil && *p.AfterCursor != "" {
			cursor = *p.AfterCursor
		}
		if p.EndOfStream {
			break
		}
		if p.AfterCursor == nil || *p.AfterCursor == "" {
			return nil, nil, "", fmt.Errorf("exporting tickets: page %d has no after_cursor and is not the end of the stream", page+1)
		}
		q = url.Values{"include": {"organizations"}, "cursor": {cursor}}
	}
	if cursor == "" {
		return nil, nil, "", errors.New("exporting tickets: no after_cursor to continue from")
	}
	return tickets, orgs, cursor, nil
}

// staleOpen adds to tickets the open ones last updated before since, which
// the export from since leaves out, found with the export of search
// results, and their organizations' names to orgs. The search's dates are
// days in the account's time zone: it asks for a day more, and the
// tickets already exported are not added again.
func (s *source) staleOpen(ctx context.Context, since time.Time, tickets []ticket, orgs map[int64]string) ([]ticket, error) {
	seen := make(map[int64]bool, len(tickets))
	for _, t := range tickets {
		seen[t.ID] = true
	}
	path := searchExportPath
	q := url.Values{"query": {"type:ticket status<solved updated<" + since.AddDate(0, 0, 1).Format(time.DateOnly)},
		"filter[type]": {"ticket"}, "page[size]": {"1000"}}
	for {
		var p struct {
			Results []ticket `json:"results"`
			Meta    struct {
				HasMore bool `json:"has_more"`
			} `json:"meta"`
			Links struct {
				Next *string `json:"next"`
			} `json:"links"`
		}
		if _, err := s.client.Do(ctx, rest.Request{Path: path, Query: q}, &p); err != nil {
			return nil, fmt.Errorf("searching open tickets: %w", err)
		}
		for _, t := range p.Results {
			if !seen[t.ID] {
				seen[t.ID] = true
				tickets = append(tickets, t)
			}
		}
		if !p.Meta.HasMore || p.Links.Next == nil || *p.Links.Next == "" {
			break
		}
		path, q = *p.Links.Next, nil
	}
	if s.customer != "organization" {
		return tickets, nil
	}
	var missing []string
	for _, t := range tickets {
		if o := t.OrganizationID; o != nil {
			if _, ok := orgs[*o]; !ok {
				orgs[*o] = "" // asked for once
				missing = append(missing, strconv.FormatInt(*o, 10))
			}
		}
	}
	for len(missing) > 0 {
		n := min(len(missing), 100) // show_many takes up to 100 ids
		var p struct {
			Organizations []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"organizations"`
		}
		if _, err := s.client.Do(ctx, rest.Request{Path: orgsPath, Query: url.Values{"ids": {strings.Join(missing[:n], ",")}}}, &p); err != nil {
			return nil, fmt.Errorf("reading organizations: %w", err)
		}
		for _, o := range p.Organizations {
			orgs[o.ID] = o.Name
		}
		missing = missing[n:]
	}
	return tickets, nil
}

type event struct {
	Type      string          `json:"type"`
	FieldName string          `json:"field_name"`
	Value     json.RawMessage `json:"value"`
	Public    *bool           `json:"public"`
	AuthorID  int64           `json:"author_id"`
}

type auditPage struct {
	Audits []struct {
		CreatedAt time.Time `json:"created_at"`
		AuthorID  int64     `json:"author_id"`
		Events    []event   `json:"events"`
	} `json:"audits"`
	NextPage *string `json:"next_page"`
	Meta     struct {
		HasMore bool `json:"has_more"`
	} `json:"meta"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

var statuses = map[string]sla.Status{
	"new": sla.StatusOpen, "open": sla.StatusOpen, "pending": sla.StatusPendingCustomer,
	"hold": sla.StatusOnHold, "solved": sla.StatusResolved, "closed": sla.StatusClosed,
}

// build makes a ticket's case from it and its audits. A ticket that is not
// a valid case is a problem error; a failed request another error.
func (s *source) build(ctx context.Context, t ticket, orgs map[int64]string) (sla.Case, error) {
	id := strconv.FormatInt(t.ID, 10)
	bad := func(format string, args ...any) (sla.Case, error) {
		return sla.Case{}, sources.Problem{Err: fmt.Errorf("ticket %s: %s", id, fmt.Sprintf(format, args...))}
	}
	st, ok := statuses[t.Status]
	if !ok {
		return bad("unknown status %q", t.Status)
	}
	c := sla.Case{Source: s.name, ID: id, URL: s.base + "/agent/tickets/" + id,
		Status: st, Created: t.CreatedAt, Labels: t.Tags}
	if t.Priority != nil && *t.Priority != "" {
		if c.Severity, ok = s.severity[*t.Priority]; !ok {
			return bad("unknown priority %q", *t.Priority)
		}
	}
	if t.Type != nil {
		c.Type = *t.Type
	}
	if s.customer == "organization" && t.OrganizationID != nil {
		if c.Customer = orgs[*t.OrganizationID]; c.Customer == "" {
			c.Customer = strconv.FormatInt(*t.OrganizationID, 10)
		}
	}
	for _, f := range t.CustomFields {
		var v *string
		if f.ID != s.tierF && f.ID != s.tzF || len(f.Value) == 0 {
			continue
		}
		if err := json.Unmarshal(f.Value, &v); err != nil {
			return bad("custom field %d: not a text value", f.ID)
		}
		if v == nil {
			continue
		}
		if f.ID == s.tierF {
			c.Tier = *v
		}
		if f.ID == s.tzF {
			c.Timezone = *v
		}
	}
	if err := s.history(ctx, t, &c); err != nil {
		var se *rest.StatusError
		if errors.As(err, &se) && se.Code == http.StatusNotFound {
			return bad("audits: %v", err)
		}
		return sla.Case{}, err
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

// history reads a ticket's audits into its status and severity histories
// and its first response: the first public comment, after the
// description, by someone other than the requester.
func (s *source) history(ctx context.Context, t ticket, c *sla.Case) error {
	path := fmt.Sprintf("/api/v2/tickets/%d/audits.json", t.ID)
	for {
		var p auditPage
		if _, err := s.client.Do(ctx, rest.Request{Path: path}, &p); err != nil {
			return fmt.Errorf("ticket %d: reading audits: %w", t.ID, err)
		}
		for _, a := range p.Audits {
			// The audit that creates the ticket holds its description,
			// which is never a response, even when an agent opened the
			// ticket for the customer.
			creating := false
			for _, e := range a.Events {
				creating = creating || e.Type == "Create"
			}
			for _, e := range a.Events {
				switch {
				case e.Type == "Comment" && creating:
				case e.Type == "Comment":
					author := e.AuthorID
					if author == 0 { // the event's author, else the audit's
						author = a.AuthorID
					}
					if e.Public != nil && *e.Public && author != t.RequesterID && c.FirstResponse.IsZero() {
						c.FirstResponse = a.CreatedAt
					}
				case e.Type != "Create" && e.Type != "Change":
				case e.FieldName == "status":
					var v string
					if json.Unmarshal(e.Value, &v) != nil {
						continue
					}
					st, ok := statuses[v]
					if h := c.StatusHistory; ok && (len(h) == 0 || h[len(h)-1].Status != st) {
						c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: a.CreatedAt, Status: st})
					}
				case e.FieldName == "priority":
					var v string
					if json.Unmarshal(e.Value, &v) != nil {
						continue
					}
					if sev, ok := s.severity[v]; ok {
						c.SeverityHistory = append(c.SeverityHistory, sla.SeverityChange{At: a.CreatedAt, Severity: sev})
					}
				}
			}
		}
		switch {
		case p.Meta.HasMore && p.Links.Next != nil && *p.Links.Next != "":
			path = *p.Links.Next
		case p.NextPage != nil && *p.NextPage != "":
			path = *p.NextPage
		default:
			return nil
		}
	}
}
