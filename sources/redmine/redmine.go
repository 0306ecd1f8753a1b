// Package redmine is the source that reads issues from Redmine (4.x and 5.x)
// through its REST API, authenticated with an API key
// (X-Redmine-API-Key).
//
// The issue list (GET /issues.json, the query's long filter form
// set_filter=1&f[]=…&op[…]=…&v[…][]=…, sorted by updated_on then id, 100
// a page) finds new and changed issues, and each one's journals
// (GET /issues/{id}.json?include=journals) give its status and priority
// history and its first response. Statuses and priorities are read once
// per process (GET /issue_statuses.json, GET
// /enumerations/issue_priorities.json), and again when an issue names one
// not seen yet; project identifiers are resolved to ids once
// (GET /projects/{identifier}.json).
//
// Paging. Offset paging over data that changes is unsafe: an issue updated
// while the list is read moves to its end, so every issue after it moves
// one place up and the one at the next page's offset is skipped. The source
// pages by key instead: each page asks for updated_on >= the last issue's
// updated_on, from offset 0, and keeps each issue once (its last version).
// Only when a whole page shares two seconds (a bulk edit) does it step by
// offset, overlapping the previous page by one issue; if that issue is not
// where it was, the list moved and the source reads it again from the same
// instant. An issue updated meanwhile goes to the end of the list, where it
// is read again.
//
// The first Sync reads every open issue (status_id o) and every issue
// closed since the start of the previous month UTC (status_id c,
// closed_on >=), and returns those still open or resolved since then,
// with Full set. Its cursor holds the latest updated_on seen, the highest
// issue id and the number of issues up to it, and the issues already
// returned in the overlap window. Each later Sync lists the issues updated
// since the cursor less the overlap (skipping those already returned in
// the same version) and reads the journals of those only.
//
// Deleted issues. Redmine keeps no trace of a deleted issue, so a listing
// by updated_on cannot see one. Each later Sync therefore counts the
// issues up to the cursor's highest id (one request, limit=1, its
// total_count); when the count differs from the cursor's, issues were
// deleted (or moved out of the projects, or hidden from the API user),
// and the Sync lists the ids of the open and recently closed issues (no
// journals) and reports every case it returned before and no longer finds
// as Deleted.
//
// Configuration (`type: redmine`):
//
//	url                  the Redmine address, e.g. https://redmine.example.com (required)
//	api_key, api_key_file the API key of the user the exporter reads as (${ENV} or a file)
//	projects             project identifiers (subprojects are not added); empty: every visible project
//	requests_per_minute  client-side budget (default none)
//	overlap              how far back a later Sync lists again (default 5m)
//	mapping:
//	  severity           priority name → severity; default Immediate 1, Urgent 1, High 2, Normal 3, Low 4
//	  waiting_statuses   status names that are pending_customer (default [Feedback])
//	  hold_statuses      status names that are on_hold (default none)
//	  status_map         status name → open, pending_customer, on_hold, resolved or closed;
//	                     defaults: New, In Progress open; Resolved resolved; Closed, Rejected closed;
//	                     any other status is closed if Redmine marks it closed, else open
//	  tier_field         custom field (name or id) holding the tier
//	  customer_field     custom field (name or id) holding the customer; default: the project's name
//	  timezone_field     custom field (name or id) holding the customer's IANA time zone
//
// Mapping: the case id is the issue id; its type is the tracker's name;
// first_response is the earliest journal with a non-empty note, not
// private, written by someone other than the issue's author (private notes
// are internal, like Jira's and Zendesk's internal comments).
//
// Permissions: the API user needs the REST API enabled (Administration,
// Settings, API) and, in each project, a role with "View issues"; "View
// private notes" is not needed (private notes never count). Reading
// issue statuses and priorities needs nothing more. A wrong API key is
// not refused by Redmine on its own (the request runs as the anonymous
// user), so every Sync first asks GET /users/current.json, which answers
// 401 to an unknown key.
package redmine

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
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// DefaultSeverity maps Redmine's default priorities to severities. Redmine
// has five priorities and the model four: Immediate and Urgent both mean
// "drop everything".
var DefaultSeverity = map[string]int{"immediate": 1, "urgent": 1, "high": 2, "normal": 3, "low": 4}

// defaultStatuses map Redmine's default statuses (by lower-case name).
var defaultStatuses = map[string]sla.Status{
	"new": sla.StatusOpen, "in progress": sla.StatusOpen, "resolved": sla.StatusResolved,
	"closed": sla.StatusClosed, "rejected": sla.StatusClosed,
}

// pageSize is the most issues Redmine returns a page.
const pageSize = 100

type source struct {
	name      string
	base      string
	overlap   time.Duration
	projects  []string
	severity  map[string]int        // lower-case priority name
	statusMap map[string]sla.Status // lower-case status name
	tierF     string
	custF     string
	tzF       string
	limit     int
	now       func() time.Time
	logger    *slog.Logger

	opts   rest.Options
	client *rest.Client

	mu         sync.Mutex
	statuses   map[int64]status // by id; nil until read
	priorities map[int64]string // by id
	projectIDs []string         // resolved from projects
	known      map[int64]bool   // ids of the cases returned since the last full Sync
}

type status struct {
	Name     string
	IsClosed bool
}

// New is the sources.Factory of `type: redmine`; the keys are in the
// package comment.
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{name: env.Name, overlap: 5 * time.Minute, severity: DefaultSeverity,
		limit: pageSize, now: env.Now, logger: env.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	waiting, hold := []string{"Feedback"}, []string(nil)
	var custom map[string]sla.Status
	var key string
	ep := rest.Endpoint{Overlap: s.overlap}
	own := map[string]func(*yaml.Node, string){
		"projects": func(v *yaml.Node, p string) {
			if d.Strings(v, p, &s.projects) {
				for i, id := range s.projects {
					if id == "" || strings.ContainsAny(id, "/?#") {
						d.Errorf(v, strictyaml.Join(p, strconv.Itoa(i)), "want a project identifier such as sla-test")
					}
				}
			}
		},
		"mapping": func(v *yaml.Node, p string) {
			d.Fields(v, p, map[string]func(*yaml.Node, string){
				"severity":         func(v *yaml.Node, p string) { s.severity = decodeSeverity(d, v, p) },
				"waiting_statuses": func(v *yaml.Node, p string) { d.Strings(v, p, &waiting) },
				"hold_statuses":    func(v *yaml.Node, p string) { d.Strings(v, p, &hold) },
				"status_map":       func(v *yaml.Node, p string) { custom = decodeStatusMap(d, v, p) },
				"tier_field":       field(d, &s.tierF),
				"customer_field":   field(d, &s.custF),
				"timezone_field":   field(d, &s.tzF),
			})
		},
	}
	for k, h := range d.SecretFields("api_key", env.Dir, &key) {
		own[k] = h
	}
	maps.Copy(own, ep.Fields(d, "the Redmine address", "https://redmine.example.com"))
	sources.Fields(d, n, path, own)
	ep.Require(d, n, path, "the Redmine address", "https://redmine.example.com")
	s.base, s.overlap = ep.URL, ep.Overlap
	if key == "" {
		d.Errorf(n, path, "missing credentials: api_key (or api_key_file)")
	}
	s.statusMap = maps.Clone(defaultStatuses)
	for _, w := range waiting {
		s.statusMap[strings.ToLower(w)] = sla.StatusPendingCustomer
	}
	for _, h := range hold {
		s.statusMap[strings.ToLower(h)] = sla.StatusOnHold
	}
	for k, v := range custom {
		s.statusMap[k] = v
	}
	s.opts = rest.Options{BaseURL: s.base, Auth: rest.Header{Name: "X-Redmine-API-Key", Value: key},
		RequestsPerMinute: ep.RequestsPerMinute, Requests: env.Requests, Clock: env.Clock, Logger: s.logger}
	s.client = rest.New(s.opts)
	return s
}

// setTestClient is the tests' hook: the client paces on clock and sends
// through transport (nil: the default).
func (s *source) setTestClient(clock rest.Clock, transport http.RoundTripper) {
	s.opts.Clock, s.opts.Transport = clock, transport
	s.client = rest.New(s.opts)
}

func field(d *strictyaml.Decoder, dst *string) func(*yaml.Node, string) {
	return func(v *yaml.Node, p string) {
		if d.String(v, p, dst) && *dst == "" {
			d.Errorf(v, p, "want a custom field's name or id")
		}
	}
}

func decodeSeverity(d *strictyaml.Decoder, v *yaml.Node, p string) map[string]int {
	m := maps.Clone(DefaultSeverity)
	d.Map(v, p, func(key string, _, val *yaml.Node) {
		kp := strictyaml.Join(p, key)
		var sev int
		if d.Int(val, kp, &sev) && (sev < 1 || sev > 4) {
			d.Errorf(val, kp, "severity %d is not between 1 and 4", sev)
			return
		}
		m[strings.ToLower(key)] = sev
	})
	return m
}

func decodeStatusMap(d *strictyaml.Decoder, v *yaml.Node, p string) map[string]sla.Status {
	m := map[string]sla.Status{}
	d.Map(v, p, func(key string, _, val *yaml.Node) {
		kp := strictyaml.Join(p, key)
		var name string
		if !d.String(val, kp, &name) {
			return
		}
		st, err := sla.ParseStatus(name)
		if err != nil {
			d.Errorf(val, kp, "%v", err)
			return
		}
		m[strings.ToLower(key)] = st
	})
	return m
}

// cursor is where a later Sync starts.
type cursor struct {
	// Updated is the latest updated_on seen.
	Updated time.Time `json:"t"`
	// MaxID is the highest issue id, and Count the number of issues up to
	// it, when the cursor was made: a lower count later means deletions.
	MaxID int64 `json:"max"`
	Count int   `json:"n"`
	// Seen are the issues already returned whose updated_on (Unix) lies in
	// the overlap before Updated: listed again, they are skipped.
	Seen map[int64]int64 `json:"seen,omitempty"`
}

func (c cursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// monthStart is the start of the previous month UTC: the first Sync
// returns the issues resolved since then.
func (s *source) monthStart() time.Time {
	now := s.now().UTC()
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
}

// Sync lists the issues that changed since the cursor (or, without one,
// the open issues and those closed since the start of the previous month)
// and reads their journals.
func (s *source) Sync(ctx context.Context, cur string) (sources.Batch, error) {
	var prev cursor
	full := cur == ""
	if !full {
		if err := json.Unmarshal([]byte(cur), &prev); err != nil || prev.Updated.IsZero() {
			s.logger.Warn("Unreadable cursor: syncing everything again", "source_name", s.name)
			full = true
		}
	}
	if err := s.prepare(ctx); err != nil {
		return sources.Batch{}, err
	}
	since := s.monthStart()
	var next cursor
	var issues []issue
	if full {
		var err error
		if next.Count, next.MaxID, err = s.count(ctx, 0); err != nil {
			return sources.Batch{}, err
		}
		if issues, err = s.scope(ctx, since, nil); err != nil {
			return sources.Batch{}, err
		}
		next.Updated = since
	} else {
		n, _, err := s.count(ctx, prev.MaxID)
		if err != nil {
			return sources.Batch{}, err
		}
		if issues, err = s.list(ctx, s.filter(nil), prev.Updated.Add(-s.overlap)); err != nil {
			return sources.Batch{}, fmt.Errorf("listing issues updated since %s: %w", prev.Updated.Add(-s.overlap).Format(time.RFC3339), err)
		}
		next = cursor{Updated: prev.Updated, MaxID: prev.MaxID, Count: n}
		if n != prev.Count {
			next.Count = -1 // counted again below, with the deletions
		}
	}
	b := sources.Batch{Full: full}
	returned := map[int64]bool{}
	for _, is := range issues {
		next.Updated = maxTime(next.Updated, is.UpdatedOn)
		if !full && is.ID > prev.MaxID {
			next.MaxID = max(next.MaxID, is.ID)
			if next.Count >= 0 {
				next.Count++
			}
		}
		if !full && prev.Seen[is.ID] == is.UpdatedOn.Unix() {
			continue // returned already in this version
		}
		c, err := s.build(ctx, is)
		var pe sources.Problem
		switch {
		case errors.Is(err, errGone):
			if !full {
				b.Deleted = append(b.Deleted, strconv.FormatInt(is.ID, 10))
			}
			continue
		case errors.As(err, &pe):
			b.Problems = append(b.Problems, err)
			continue
		case err != nil:
			return sources.Batch{}, err
		}
		if full && c.Status.Done() && c.Resolved.Before(since) {
			continue
		}
		b.Cases = append(b.Cases, c)
		returned[is.ID] = true
	}
	if next.Count < 0 {
		gone, err := s.sweep(ctx, since)
		if err != nil {
			return sources.Batch{}, err
		}
		for _, id := range gone {
			if !returned[id] {
				b.Deleted = append(b.Deleted, strconv.FormatInt(id, 10))
			}
		}
		if next.Count, next.MaxID, err = s.count(ctx, 0); err != nil {
			return sources.Batch{}, err
		}
	}
	next.Seen = map[int64]int64{}
	// An issue of the cursor's own second may change again within that
	// second after it was read: it is listed again, unless that second is
	// older than the overlap on this clock.
	end := next.Updated.Truncate(time.Second)
	if s.now().Sub(next.Updated) > s.overlap {
		end = end.Add(time.Second)
	}
	keep := func(id, at int64) {
		if t := time.Unix(at, 0); !t.Before(next.Updated.Add(-s.overlap)) && t.Before(end) {
			next.Seen[id] = at
		}
	}
	for id, at := range prev.Seen {
		keep(id, at)
	}
	for _, is := range issues {
		if returned[is.ID] {
			keep(is.ID, is.UpdatedOn.Unix())
		}
	}
	b.Cursor = next.String()
	s.remember(full, returned, b.Deleted)
	return b, nil
}

// remember keeps the ids of the cases returned, for the deletion sweep.
func (s *source) remember(full bool, returned map[int64]bool, deleted []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if full || s.known == nil {
		s.known = map[int64]bool{}
	}
	for id := range returned {
		s.known[id] = true
	}
	for _, d := range deleted {
		id, _ := strconv.ParseInt(d, 10, 64)
		delete(s.known, id)
	}
}

// sweep lists the ids of the open and recently closed issues and returns
// those of the cases returned before that are no longer among them.
func (s *source) sweep(ctx context.Context, since time.Time) ([]int64, error) {
	issues, err := s.scope(ctx, since, nil)
	if err != nil {
		return nil, err
	}
	present := make(map[int64]bool, len(issues))
	for _, is := range issues {
		present[is.ID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []int64
	for id := range s.known {
		if !present[id] {
			gone = append(gone, id)
		}
	}
	return gone, nil
}

// scope lists the open issues and those closed since, with extra filters.
func (s *source) scope(ctx context.Context, since time.Time, extra []filter) ([]issue, error) {
	open, err := s.list(ctx, s.filter(append([]filter{{"status_id", "o", nil}}, extra...)), time.Time{})
	if err != nil {
		return nil, fmt.Errorf("listing open issues: %w", err)
	}
	closed, err := s.list(ctx, s.filter(append([]filter{{"status_id", "c", nil}, {"closed_on", ">=", []string{since.UTC().Format(time.RFC3339)}}}, extra...)), time.Time{})
	if err != nil {
		return nil, fmt.Errorf("listing issues closed since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	// An issue closed between the two lists is in both: keep the later.
	seen := make(map[int64]bool, len(closed))
	for _, is := range closed {
		seen[is.ID] = true
	}
	out := closed
	for _, is := range open {
		if !seen[is.ID] {
			out = append(out, is)
		}
	}
	return out, nil
}

// Window lists the open issues and those closed since from, created before
// to, and keeps those not resolved before from.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	if err := s.prepare(ctx); err != nil {
		return nil, err
	}
	issues, err := s.scope(ctx, from, []filter{{"created_on", "<=", []string{to.UTC().Format(time.RFC3339)}}})
	if err != nil {
		return nil, err
	}
	var out []sla.Case
	for _, is := range issues {
		if !is.CreatedOn.Before(to) {
			continue
		}
		c, err := s.build(ctx, is)
		var pe sources.Problem
		switch {
		case errors.Is(err, errGone):
			continue
		case errors.As(err, &pe):
			s.logger.Warn("Skipped an issue", "source_name", s.name, "err", err)
			continue
		case err != nil:
			return nil, err
		}
		if !c.Resolved.IsZero() && c.Resolved.Before(from) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// prepare checks the API key and reads what the mapping needs once: the
// statuses, the priorities and the projects' ids.
func (s *source) prepare(ctx context.Context) error {
	// An unknown key makes Redmine answer as the anonymous user, who sees
	// the public projects: this request is the one that says 401.
	var me struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	if _, err := s.client.Do(ctx, rest.Request{Path: "/users/current.json"}, &me); err != nil {
		return fmt.Errorf("checking the API key: %w", err)
	}
	if me.User.ID == 0 {
		return errors.New("checking the API key: GET /users/current.json named no user")
	}
	s.mu.Lock()
	ready := s.statuses != nil && len(s.projectIDs) == len(s.projects)
	s.mu.Unlock()
	if ready {
		return nil
	}
	if err := s.readEnumerations(ctx); err != nil {
		return err
	}
	ids := make([]string, 0, len(s.projects))
	for _, p := range s.projects {
		var out struct {
			Project struct {
				ID int64 `json:"id"`
			} `json:"project"`
		}
		if _, err := s.client.Do(ctx, rest.Request{Path: "/projects/" + url.PathEscape(p) + ".json"}, &out); err != nil {
			return fmt.Errorf("project %s (not found, or not visible to the API user?): %w", p, err)
		}
		ids = append(ids, strconv.FormatInt(out.Project.ID, 10))
	}
	s.mu.Lock()
	s.projectIDs = ids
	s.mu.Unlock()
	return nil
}

// enumerations are the answers of /issue_statuses.json and
// /enumerations/issue_priorities.json.
type enumerations struct {
	Statuses []struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		IsClosed bool   `json:"is_closed"`
	} `json:"issue_statuses"`
	Priorities []ref `json:"issue_priorities"`
}

// readEnumerations reads the statuses and the priorities.
func (s *source) readEnumerations(ctx context.Context) error {
	var e enumerations
	if _, err := s.client.Do(ctx, rest.Request{Path: "/issue_statuses.json"}, &e); err != nil {
		return fmt.Errorf("reading issue statuses: %w", err)
	}
	if _, err := s.client.Do(ctx, rest.Request{Path: "/enumerations/issue_priorities.json"}, &e); err != nil {
		return fmt.Errorf("reading issue priorities: %w", err)
	}
	s.setEnumerations(e)
	return nil
}

func (s *source) setEnumerations(e enumerations) {
	statuses := make(map[int64]status, len(e.Statuses))
	for _, x := range e.Statuses {
		statuses[x.ID] = status{Name: x.Name, IsClosed: x.IsClosed}
	}
	priorities := make(map[int64]string, len(e.Priorities))
	for _, x := range e.Priorities {
		priorities[x.ID] = x.Name
	}
	s.mu.Lock()
	s.statuses, s.priorities = statuses, priorities
	s.mu.Unlock()
}

// filter is one condition of an issue query, in the long form.
type filter struct {
	field, op string
	values    []string
}

// filter makes the query of the given filters (status_id * when none is
// given) within the configured projects.
func (s *source) filter(fs []filter) url.Values {
	q := url.Values{"set_filter": {"1"}}
	add := func(f filter) {
		q.Add("f[]", f.field)
		q.Set("op["+f.field+"]", f.op)
		for _, v := range f.values {
			q.Add("v["+f.field+"][]", v)
		}
	}
	hasStatus := false
	for _, f := range fs {
		hasStatus = hasStatus || f.field == "status_id"
		add(f)
	}
	if !hasStatus {
		add(filter{"status_id", "*", nil})
	}
	s.mu.Lock()
	ids := s.projectIDs
	s.mu.Unlock()
	if len(ids) > 0 {
		add(filter{"project_id", "=", ids})
	}
	return q
}

// count is the number of issues (any status) up to id maxID (0: all) and
// the highest issue id.
func (s *source) count(ctx context.Context, maxID int64) (int, int64, error) {
	var fs []filter
	if maxID > 0 {
		fs = []filter{{"issue_id", "<=", []string{strconv.FormatInt(maxID, 10)}}}
	}
	q := s.filter(fs)
	q.Set("sort", "id:desc")
	q.Set("limit", "1")
	var p listPage
	if _, err := s.client.Do(ctx, rest.Request{Path: "/issues.json", Query: q}, &p); err != nil {
		return 0, 0, fmt.Errorf("counting issues: %w", err)
	}
	var top int64
	if len(p.Issues) > 0 {
		top = p.Issues[0].ID
	}
	return p.TotalCount, max(top, maxID), nil
}

type listPage struct {
	Issues     []issue `json:"issues"`
	TotalCount int     `json:"total_count"`
}

// maxRestarts bounds how often a list is read again because it moved.
const maxRestarts = 5

// list reads every issue of the query q updated since from (zero: any),
// oldest update first, keyed by updated_on (see the package comment), and
// returns each issue once, in its last version.
func (s *source) list(ctx context.Context, q url.Values, from time.Time) ([]issue, error) {
	var out []issue
	at := map[int64]int{}
	t, offset, expect, restarts := from, 0, int64(0), 0
	for page := 1; ; page++ {
		pq := maps.Clone(q)
		if !t.IsZero() {
			pq.Add("f[]", "updated_on")
			pq.Set("op[updated_on]", ">=")
			pq.Set("v[updated_on][]", t.UTC().Format(time.RFC3339))
		}
		pq.Set("sort", "updated_on,id")
		pq.Set("limit", strconv.Itoa(s.limit))
		pq.Set("offset", strconv.Itoa(offset))
		var p listPage
		if _, err := s.client.Do(ctx, rest.Request{Path: "/issues.json", Query: pq}, &p); err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		if expect != 0 && (len(p.Issues) == 0 || p.Issues[0].ID != expect) {
			// The issues before the offset changed: read them again.
			if restarts++; restarts > maxRestarts {
				return nil, fmt.Errorf("the issues updated at %s kept changing while they were listed", t.UTC().Format(time.RFC3339))
			}
			offset, expect = 0, 0
			continue
		}
		for _, is := range p.Issues {
			if i, ok := at[is.ID]; ok {
				out[i] = is
				continue
			}
			at[is.ID] = len(out)
			out = append(out, is)
		}
		if len(p.Issues) < s.limit {
			return out, nil
		}
		first, last := p.Issues[0], p.Issues[len(p.Issues)-1]
		if last.UpdatedOn.Sub(first.UpdatedOn) >= 2*time.Second {
			// Redmine's ">= t" is "> t-1s": the next page starts with
			// the issues of the last two seconds, fewer than a page.
			t, offset, expect = last.UpdatedOn, 0, 0
			continue
		}
		offset, expect = offset+s.limit-1, last.ID
	}
}
