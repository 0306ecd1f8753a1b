// Package jira is the source that reads cases from Jira Cloud (REST API v3,
// the enhanced search /rest/api/3/search/jql paged by nextPageToken) or
// Jira Data Center (REST API v2, /rest/api/2/search paged by startAt),
// including Jira Service Management projects.
//
// The first Sync loads every issue of the configured JQL that is not done
// or was resolved since the start of the previous month; later ones ask
// only for the issues updated since the cursor (the latest `updated` seen)
// minus `overlap`. JQL dates have minute precision and Jira reads them in
// the API user's time zone: this source writes them in UTC, so set the
// API user's profile time zone to UTC (or keep `overlap` larger than the
// user's offset from UTC). For each issue of a batch the source reads its
// changelog (status and priority history) and its comments (the first
// public comment by someone other than the reporter is the first
// response; on Jira Service Management, public means jsdPublic).
// Deleted issues are not seen by an incremental sync: they stay until the
// next full load (a restart).
//
// A status is resolved when its category is done (the categories come from
// /status, read on each full load); a status named in waiting_statuses is
// pending_customer, one in hold_statuses on_hold, any other open. The
// severity is the priority's through mapping.severity; a priority not in it
// leaves the policy's default.
//
// A configuration:
//
//	sources:
//	  - name: jira
//	    type: jira
//	    url: https://example.atlassian.net
//	    email: sla-bot@example.com    # Cloud; left out on Data Center: a bearer token
//	    token: ${JIRA_TOKEN}          # or token_file: jira.token
//	    jql: project = SUP
//	    overlap: 5m
//	    requests_per_minute: 100
//	    mapping:
//	      tier_field: customfield_10050
//	      customer_field: customfield_10002 # e.g. JSM Organizations
//	      timezone_field: customfield_10060
//	      severity: {Highest: 1, High: 2, Medium: 3, Low: 4, Lowest: 4}
//	      waiting_statuses: [Waiting for customer]
//	      hold_statuses: [Escalated]
package jira

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
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// Flavors.
const (
	Cloud      = "cloud"
	DataCenter = "datacenter"
)

// pageSize is the maxResults asked of every paged endpoint.
const pageSize = 100

// jqlDate is JQL's date format (minute precision).
const jqlDate = "2006/01/02 15:04"

// jiraTime is how Jira writes instants: 2026-03-02T09:15:00.000+0100.
const jiraTime = "2006-01-02T15:04:05.000-0700"

type mapping struct {
	tierField, customerField, timezoneField string
	severity                                map[string]int
	waiting, hold                           []string
}

type source struct {
	name    string
	base    string // the site URL, without a trailing slash
	flavor  string
	jql     string
	overlap time.Duration
	m       mapping
	logger  *slog.Logger
	client  *rest.Client

	mu        sync.Mutex
	doneNames map[string]bool // status name → its category is done
	tzOK      map[string]error
}

// New is the sources.Factory of `type: jira`. Its keys are `url`
// (required), `flavor` (cloud or datacenter; cloud by default), `email`
// with `token` or `token_file` (HTTP basic: Cloud's API user and API
// token, or a Data Center user and password), or on Data Center `token`
// alone (a personal access token, sent as a bearer token), `jql` (which
// issues; `project is not EMPTY` by default; no ORDER BY), `overlap` (how
// far back of the cursor an incremental sync starts; 5m by default),
// `requests_per_minute` (the client's budget; none by default) and
// `mapping` (see the package documentation).
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{
		name: env.Name, flavor: Cloud, jql: "project is not EMPTY", overlap: 5 * time.Minute,
		logger: env.Logger, tzOK: map[string]error{},
		m: mapping{
			severity: map[string]int{"Highest": 1, "High": 2, "Medium": 3, "Low": 4, "Lowest": 4},
			waiting:  []string{"Waiting for customer"},
		},
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	var email, token string
	ep := rest.Endpoint{Overlap: s.overlap}
	hasEmail := false
	fields := map[string]func(*yaml.Node, string){
		"flavor": func(v *yaml.Node, p string) {
			if d.String(v, p, &s.flavor) && s.flavor != Cloud && s.flavor != DataCenter {
				d.Errorf(v, p, "must be cloud or datacenter, not %q", s.flavor)
			}
		},
		"email": func(v *yaml.Node, p string) {
			hasEmail = true
			if d.String(v, p, &email) && email == "" {
				d.Errorf(v, p, "must not be empty")
			}
		},
		"jql": func(v *yaml.Node, p string) {
			if d.String(v, p, &s.jql) && strings.TrimSpace(s.jql) == "" {
				d.Errorf(v, p, "must not be empty")
			}
			if strings.Contains(strings.ToUpper(s.jql), "ORDER BY") {
				d.Errorf(v, p, "must not have an ORDER BY: the source orders the search itself")
			}
		},
		"mapping": func(v *yaml.Node, p string) { s.decodeMapping(d, v, p) },
	}
	for k, h := range d.SecretFields("token", env.Dir, &token) {
		fields[k] = h
	}
	maps.Copy(fields, ep.Fields(d, "the Jira site", "https://example.atlassian.net"))
	sources.Fields(d, n, path, fields)
	ep.Require(d, n, path, "the Jira site", "https://example.atlassian.net")
	s.base, s.overlap = ep.URL, ep.Overlap
	rpm := ep.RequestsPerMinute
	if token == "" {
		d.Errorf(n, strictyaml.Join(path, "token"), "missing: an API token (token: ${ENV_VAR} or token_file)")
	}
	var auth rest.Auth
	switch {
	case s.flavor == Cloud && !hasEmail:
		d.Errorf(n, strictyaml.Join(path, "email"), "missing: Jira Cloud authenticates with the API user's e-mail and an API token")
	case s.flavor == Cloud:
		auth = rest.Basic{User: email, Password: token}
	case hasEmail:
		auth = rest.Basic{User: email, Password: token}
	default:
		auth = rest.Bearer{Token: token}
	}
	s.client = rest.New(rest.Options{
		BaseURL: s.base, Auth: auth, RequestsPerMinute: rpm, Requests: env.Requests,
		Clock: env.Clock, Logger: s.logger,
	})
	return s
}

func (s *source) decodeMapping(d *strictyaml.Decoder, n *yaml.Node, path string) {
	field := func(dst *string) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) {
			if d.String(v, p, dst) && !strings.HasPrefix(*dst, "customfield_") {
				d.Errorf(v, p, "must be a custom field id such as customfield_10050, not %q", *dst)
			}
		}
	}
	d.Fields(n, path, map[string]func(*yaml.Node, string){
		"tier_field":     field(&s.m.tierField),
		"customer_field": field(&s.m.customerField),
		"timezone_field": field(&s.m.timezoneField),
		"severity": func(v *yaml.Node, p string) {
			sev := map[string]int{}
			d.Map(v, p, func(key string, _, val *yaml.Node) {
				var i int
				kp := strictyaml.Join(p, key)
				if d.Int(val, kp, &i) {
					if i < 1 || i > 4 {
						d.Errorf(val, kp, "must be between 1 and 4, not %d", i)
					}
					sev[key] = i
				}
			})
			s.m.severity = sev
		},
		"waiting_statuses": func(v *yaml.Node, p string) { d.Strings(v, p, &s.m.waiting) },
		"hold_statuses":    func(v *yaml.Node, p string) { d.Strings(v, p, &s.m.hold) },
	})
}

func (s *source) api() string {
	if s.flavor == DataCenter {
		return "/rest/api/2"
	}
	return "/rest/api/3"
}

// Sync does a full load with an empty cursor, else asks for the issues
// updated since the cursor minus the overlap.
func (s *source) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	full := cursor == ""
	clause := "statusCategory != Done OR resolved >= startOfMonth(-1)"
	var since time.Time
	if !full {
		t, err := time.Parse(time.RFC3339, cursor)
		if err != nil {
			return sources.Batch{}, fmt.Errorf("bad cursor %q: %w", cursor, err)
		}
		since = t.Add(-s.overlap)
		clause = fmt.Sprintf("updated >= %q", since.UTC().Format(jqlDate))
	}
	if full || s.statusesUnknown() {
		if err := s.loadStatuses(ctx); err != nil {
			return sources.Batch{}, err
		}
	}
	jql := fmt.Sprintf("(%s) AND (%s) ORDER BY updated ASC", s.jql, clause)
	issues, err := s.search(ctx, jql)
	if err != nil {
		return sources.Batch{}, err
	}
	b := sources.Batch{Full: full, Cursor: cursor}
	latest := time.Time{}
	if !full {
		latest, _ = time.Parse(time.RFC3339, cursor)
	}
	for _, is := range issues {
		if u, err := parseTime(is.Fields.Updated); err == nil && u.After(latest) {
			latest = u
		}
		c, err := s.toCase(ctx, is)
		if err != nil {
			if ctx.Err() != nil || !isProblem(err) {
				return sources.Batch{}, err
			}
			b.Problems = append(b.Problems, err)
			continue
		}
		b.Cases = append(b.Cases, c)
	}
	if !latest.IsZero() {
		b.Cursor = latest.UTC().Format(time.RFC3339)
	} else if full {
		// Nothing at all yet: the next sync is a full load again.
		b.Cursor = ""
	}
	return b, nil
}

// Window returns the issues created before to and not resolved before
// from.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	if s.statusesUnknown() {
		if err := s.loadStatuses(ctx); err != nil {
			return nil, err
		}
	}
	// JQL has minute precision: ask for a little more and filter here.
	toMin := to.UTC().Truncate(time.Minute)
	if toMin.Before(to) {
		toMin = toMin.Add(time.Minute)
	}
	jql := fmt.Sprintf("(%s) AND created < %q AND (resolved is EMPTY OR resolved >= %q) ORDER BY created ASC",
		s.jql, toMin.Format(jqlDate), from.UTC().Truncate(time.Minute).Format(jqlDate))
	issues, err := s.search(ctx, jql)
	if err != nil {
		return nil, err
	}
	var out []sla.Case
	for _, is := range issues {
		c, err := s.toCase(ctx, is)
		if err != nil {
			if ctx.Err() != nil || !isProblem(err) {
				return nil, err
			}
			s.logger.Warn("Skipped an issue", "err", err)
			continue
		}
		if !c.Created.Before(to) || !c.Resolved.IsZero() && c.Resolved.Before(from) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// issueProblem is an error about one issue: the others are kept.
func issueProblem(key string, err error) error {
	return sources.Problem{Err: fmt.Errorf("issue %s: %w", key, err)}
}

// gone makes a 404 on an issue's own resources (deleted or moved since
// the search, or hidden from the API user) a problem with that issue.
func gone(key string, err error) error {
	var se *rest.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return issueProblem(key, err)
	}
	return err
}

func isProblem(err error) bool {
	_, ok := err.(sources.Problem)
	return ok
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(jiraTime, s)
	if err != nil {
		// Some proxies and older versions write RFC 3339.
		if t2, err2 := time.Parse(time.RFC3339Nano, s); err2 == nil {
			return t2, nil
		}
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return t, nil
}

// ---- statuses -----------------------------------------------------------

type statusJSON struct {
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

func (s *source) statusesUnknown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doneNames == nil
}

// loadStatuses reads which statuses are in the done category: the
// changelog names statuses but not their categories.
func (s *source) loadStatuses(ctx context.Context) error {
	var list []statusJSON
	if _, err := s.client.Do(ctx, rest.Request{Path: s.api() + "/status"}, &list); err != nil {
		return err
	}
	done := make(map[string]bool, len(list))
	for _, st := range list {
		done[st.Name] = st.StatusCategory.Key == "done"
	}
	s.mu.Lock()
	s.doneNames = done
	s.mu.Unlock()
	return nil
}

// status normalises a status name; done says its category is done.
func (s *source) status(name string, done bool) sla.Status {
	switch {
	case done:
		return sla.StatusResolved
	case containsFold(s.m.waiting, name):
		return sla.StatusPendingCustomer
	case containsFold(s.m.hold, name):
		return sla.StatusOnHold
	}
	return sla.StatusOpen
}

func (s *source) statusByName(name string) sla.Status {
	s.mu.Lock()
	done := s.doneNames[name]
	s.mu.Unlock()
	return s.status(name, done)
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// ---- search -------------------------------------------------------------

type user struct {
	AccountID string `json:"accountId"`
	Name      string `json:"name"`
}

func (u user) id() string {
	if u.AccountID != "" {
		return u.AccountID
	}
	return u.Name
}

type history struct {
	Created string `json:"created"`
	Items   []struct {
		Field      string `json:"field"`
		FromString string `json:"fromString"`
		ToString   string `json:"toString"`
	} `json:"items"`
}

type issue struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Created        string   `json:"created"`
		Updated        string   `json:"updated"`
		ResolutionDate string   `json:"resolutiondate"`
		Labels         []string `json:"labels"`
		Status         struct {
			Name           string `json:"name"`
			StatusCategory struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		} `json:"status"`
		Priority *struct {
			Name string `json:"name"`
		} `json:"priority"`
		IssueType struct {
			Name string `json:"name"`
		} `json:"issuetype"`
		Reporter *user `json:"reporter"`
	} `json:"fields"`
	raw       map[string]json.RawMessage // the fields, for custom ones
	bad       error                      // why the issue could not be decoded
	Changelog *struct {
		Total     int       `json:"total"`
		Histories []history `json:"histories"`
	} `json:"changelog"`
}

func (s *source) fieldList() string {
	f := []string{"created", "updated", "resolutiondate", "status", "priority", "labels", "issuetype", "reporter"}
	for _, c := range []string{s.m.tierField, s.m.customerField, s.m.timezoneField} {
		if c != "" {
			f = append(f, c)
		}
	}
	return strings.Join(f, ",")
}

type rawIssue struct {
	ID        string                     `json:"id"`
	Key       string                     `json:"key"`
	Fields    map[string]json.RawMessage `json:"fields"`
	Changelog json.RawMessage            `json:"changelog"`
}

func (r rawIssue) decode() (issue, error) {
	var is issue
	b, err := json.Marshal(r)
	if err != nil {
		return is, err
	}
	if err := json.Unmarshal(b, &is); err != nil {
		return is, issueProblem(r.Key, fmt.Errorf("unexpected fields: %w", err))
	}
	is.raw = r.Fields
	return is, nil
}

// search returns every issue of a JQL query, all pages.
func (s *source) search(ctx context.Context, jql string) ([]issue, error) {
	q := url.Values{"jql": {jql}, "fields": {s.fieldList()}, "maxResults": {strconv.Itoa(pageSize)}}
	var raws []rawIssue
	if s.flavor == DataCenter {
		// Data Center has no paged changelog endpoint: the search
		// embeds it.
		q.Set("expand", "changelog")
		for start := 0; ; {
			q.Set("startAt", strconv.Itoa(start))
			var page struct {
				StartAt int        `json:"startAt"`
				Total   int        `json:"total"`
				Issues  []rawIssue `json:"issues"`
			}
			if _, err := s.client.Do(ctx, rest.Request{Path: "/rest/api/2/search", Query: q}, &page); err != nil {
				return nil, err
			}
			raws = append(raws, page.Issues...)
			start += len(page.Issues)
			if len(page.Issues) == 0 || start >= page.Total {
				break
			}
		}
	} else {
		seen := map[string]bool{}
		for {
			var page struct {
				Issues        []rawIssue `json:"issues"`
				NextPageToken string     `json:"nextPageToken"`
				IsLast        *bool      `json:"isLast"`
			}
			if _, err := s.client.Do(ctx, rest.Request{Path: "/rest/api/3/search/jql", Query: q}, &page); err != nil {
				return nil, err
			}
			raws = append(raws, page.Issues...)
			if page.NextPageToken == "" || (page.IsLast != nil && *page.IsLast) || seen[page.NextPageToken] {
				break
			}
			seen[page.NextPageToken] = true
			q.Set("nextPageToken", page.NextPageToken)
		}
	}
	out := make([]issue, 0, len(raws))
	for _, r := range raws {
		is, err := r.decode()
		if err != nil {
			if isProblem(err) {
				// Keep it so that toCase reports it as a problem.
				is = issue{ID: r.ID, Key: r.Key, bad: err}
			} else {
				return nil, err
			}
		}
		out = append(out, is)
	}
	return out, nil
}

// ---- per-issue history --------------------------------------------------

func (s *source) changelog(ctx context.Context, is issue) ([]history, error) {
	if s.flavor == DataCenter {
		if is.Changelog == nil {
			return nil, nil
		}
		return is.Changelog.Histories, nil
	}
	var out []history
	for start := 0; ; {
		var page struct {
			StartAt int       `json:"startAt"`
			Total   int       `json:"total"`
			IsLast  *bool     `json:"isLast"`
			Values  []history `json:"values"`
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(pageSize)}}
		if _, err := s.client.Do(ctx, rest.Request{Path: "/rest/api/3/issue/" + url.PathEscape(is.Key) + "/changelog", Query: q}, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Values...)
		start += len(page.Values)
		last := start >= page.Total
		if page.IsLast != nil {
			last = *page.IsLast
		}
		if last || len(page.Values) == 0 {
			return out, nil
		}
	}
}

type comment struct {
	Author    user   `json:"author"`
	Created   string `json:"created"`
	JSDPublic *bool  `json:"jsdPublic"`
}

// firstResponse is the first public comment by someone other than the
// reporter, or zero.
func (s *source) firstResponse(ctx context.Context, is issue) (time.Time, error) {
	reporter := ""
	if is.Fields.Reporter != nil {
		reporter = is.Fields.Reporter.id()
	}
	var first time.Time
	for start := 0; ; {
		var page struct {
			Total    int       `json:"total"`
			Comments []comment `json:"comments"`
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(pageSize)}, "orderBy": {"created"}}
		if _, err := s.client.Do(ctx, rest.Request{Path: s.api() + "/issue/" + url.PathEscape(is.Key) + "/comment", Query: q}, &page); err != nil {
			return time.Time{}, err
		}
		for _, c := range page.Comments {
			if c.JSDPublic != nil && !*c.JSDPublic || c.Author.id() == reporter && reporter != "" {
				continue
			}
			t, err := parseTime(c.Created)
			if err != nil {
				return time.Time{}, issueProblem(is.Key, fmt.Errorf("comment created: %w", err))
			}
			if !t.IsZero() && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		start += len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			return first, nil
		}
	}
}

// ---- mapping ------------------------------------------------------------

// customString reads a custom field as text: a string, a number, an
// option ({"value": …}), a user or organisation ({"name"/"displayName"}),
// or the first of a list (JSM organisations).
func customString(raw json.RawMessage) string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var str func(any) string
	str = func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		case map[string]any:
			for _, k := range []string{"value", "name", "displayName"} {
				if s, ok := x[k].(string); ok && s != "" {
					return s
				}
			}
		case []any:
			for _, e := range x {
				if s := str(e); s != "" {
					return s
				}
			}
		}
		return ""
	}
	return strings.TrimSpace(str(v))
}

func (s *source) toCase(ctx context.Context, is issue) (sla.Case, error) {
	bad := func(err error) (sla.Case, error) { return sla.Case{}, issueProblem(is.Key, err) }
	if is.bad != nil {
		return sla.Case{}, is.bad
	}
	f := is.Fields
	c := sla.Case{
		Source: s.name, ID: is.ID, Key: is.Key, URL: s.base + "/browse/" + is.Key,
		Labels: f.Labels, Type: strings.ToLower(f.IssueType.Name),
	}
	var err error
	if c.Created, err = parseTime(f.Created); err != nil {
		return bad(fmt.Errorf("created: %w", err))
	}
	if c.Resolved, err = parseTime(f.ResolutionDate); err != nil {
		return bad(fmt.Errorf("resolutiondate: %w", err))
	}
	c.Status = s.status(f.Status.Name, f.Status.StatusCategory.Key == "done")
	if f.Priority != nil {
		c.Severity = s.severity(f.Priority.Name)
	}
	if s.m.customerField != "" {
		c.Customer = customString(is.raw[s.m.customerField])
	}
	if s.m.tierField != "" {
		c.Tier = customString(is.raw[s.m.tierField])
	}
	if s.m.timezoneField != "" {
		c.Timezone = customString(is.raw[s.m.timezoneField])
	}
	hs, err := s.changelog(ctx, is)
	if err != nil {
		return sla.Case{}, gone(is.Key, err)
	}
	for _, h := range hs {
		at, err := parseTime(h.Created)
		if err != nil {
			return bad(fmt.Errorf("changelog: %w", err))
		}
		for _, it := range h.Items {
			switch it.Field {
			case "status":
				if len(c.StatusHistory) == 0 && it.FromString != "" {
					// The status the issue had from its creation, when
					// it was not open.
					if st := s.statusByName(it.FromString); st != sla.StatusOpen {
						c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: c.Created, Status: st})
					}
				}
				c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: at, Status: s.statusByName(it.ToString)})
			case "priority":
				if len(c.SeverityHistory) == 0 {
					// The priority the issue had from its creation.
					if sev := s.severity(it.FromString); sev != 0 {
						c.SeverityHistory = append(c.SeverityHistory, sla.SeverityChange{At: c.Created, Severity: sev})
					}
				}
				if sev := s.severity(it.ToString); sev != 0 {
					c.SeverityHistory = append(c.SeverityHistory, sla.SeverityChange{At: at, Severity: sev})
				}
			}
		}
	}
	if c.FirstResponse, err = s.firstResponse(ctx, is); err != nil {
		return sla.Case{}, gone(is.Key, err)
	}
	if !c.Status.Done() {
		c.Resolved = time.Time{} // a reopened issue may keep a stale resolutiondate
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return bad(err)
	}
	if c.Timezone != "" {
		if err := s.checkTimezone(c.Timezone); err != nil {
			return bad(err)
		}
	}
	return c, nil
}

func (s *source) severity(priority string) int {
	if v, ok := s.m.severity[priority]; ok {
		return v
	}
	for k, v := range s.m.severity {
		if strings.EqualFold(k, priority) {
			return v
		}
	}
	return 0
}

func (s *source) checkTimezone(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err, ok := s.tzOK[name]
	if !ok {
		err = sla.CheckTimezone(name)
		s.tzOK[name] = err
	}
	return err
}
