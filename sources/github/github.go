// Package github is the source that reads GitHub issues through the REST
// API (version 2022-11-28), on github.com or GitHub Enterprise Server: each
// repository's issue list (GET /repos/{owner}/{repo}/issues, sorted by
// updated, 100 a page, paged by the Link header; pull requests, which the
// list mixes in, are left out) finds new and changed issues; for each of
// them the issue's events (GET /repos/{owner}/{repo}/issues/{number}/events)
// give the status and severity history from its labeled, unlabeled, closed
// and reopened events, and its comments
// (GET /repos/{owner}/{repo}/issues/{number}/comments) the first response.
//
// Configuration keys:
//
//	url                  the API's address, default https://api.github.com;
//	                     GitHub Enterprise Server: https://HOST/api/v3
//	token, token_file    a personal access token (fine-grained: Issues
//	                     read-only on the repositories; classic: repo, or
//	                     public_repo for public ones), sent as a Bearer token
//	repositories         [owner/repo, ...], one or more
//	requests_per_minute  the client-side budget, default none (GitHub allows
//	                     5,000 requests an hour to a token)
//	overlap              how far back an incremental sync lists again,
//	                     default 5m
//	reconcile_interval   how often an incremental sync also lists every
//	                     open issue, to find those deleted or transferred,
//	                     default 6h
//	mapping:
//	  responders         author_association values whose comments are
//	                     responses, default [OWNER, MEMBER, COLLABORATOR]
//	  waiting_label      the label that makes an open issue pending_customer,
//	                     default waiting-for-customer ("" none)
//	  hold_label         the label that makes it on_hold, default on-hold
//	  severity_prefix    labels that give the severity, default "severity/";
//	  severity           what follows the prefix, to a severity, default
//	                     {"1": 1, "2": 2, "3": 3, "4": 4}
//	  tier_prefix        a label "tier/<name>" gives the tier, default "tier/"
//	  customer           label (default): a label "customer/<name>" gives the
//	                     customer; repository: the repository (owner/repo)
//	  customer_prefix    default "customer/"
//	  duplicates         deleted (default): an issue closed as a duplicate
//	                     leaves the cases, reported in Batch.Deleted; closed:
//	                     it is a closed case like any other
//
// Mapping: a case's id and key are "owner/repo#number", its URL the
// issue's html_url. An open issue is open, pending_customer with the
// waiting label, on_hold with the hold label (waiting wins when both are
// set); a closed one is closed, resolved at closed_at, whatever its
// state_reason (completed or not_planned: the clock stops either way). The
// severity is that of the severity labels (the worst when there are
// several; none, or a suffix missing from the map: the policy's default),
// and its history follows their labeled and unlabeled events. The tier comes
// from a tier label, else the customers table. The first response is the
// first comment by someone whose author_association is in responders and
// who is not the issue's author. Labels are the case's labels.
//
// The first Sync lists every open issue (state=open) and the issues closed
// since the start of the previous month (state=closed&since=that instant:
// closing an issue updates it), two lists per repository that cost only
// their pages, and returns them with Full set. Its cursor holds, for each
// repository, the latest updated_at it saw; each later Sync lists
// state=all&since=that less the overlap and returns what changed. The
// lists are sorted by updated, newest first: an issue updated while the
// pages are read moves to the first page, already read, so no other issue
// slips past a page boundary (as it would, oldest first); the moved one is
// newer than the cursor and comes with the next Sync.
//
// Cost per changed issue: its events (one page of 100, and none when it was
// never updated after its creation) and its comments (none when it has no
// comment, or when its first response is already known: the source keeps
// first responses in memory).
//
// Deletion: GitHub's REST API deletes no issue, but an administrator may
// delete one, or transfer it to another repository; either leaves the
// lists without an update. Every reconcile_interval an incremental Sync
// first lists the open issues (their pages only, no per-issue request) and
// reports as deleted the issues it last saw open that are neither in that
// list nor among the changed ones. The source remembers them in memory: a
// closed issue deleted, or an issue deleted while the process was down,
// stays until the next full Sync. An issue closed as a duplicate is
// reported as deleted (merged), unless duplicates is closed.
package github

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
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// DefaultURL is github.com's API.
const DefaultURL = "https://api.github.com"

// apiVersion is the REST API version the source is written against.
const apiVersion = "2022-11-28"

// DefaultSeverity maps what follows the severity prefix to a severity.
var DefaultSeverity = map[string]int{"1": 1, "2": 2, "3": 3, "4": 4}

// DefaultResponders are the author associations of the support side.
var DefaultResponders = []string{"OWNER", "MEMBER", "COLLABORATOR"}

// associations are GitHub's author_association values.
var associations = []string{"COLLABORATOR", "CONTRIBUTOR", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN", "MEMBER", "NONE", "OWNER"}

type source struct {
	name    string
	base    string // no trailing slash
	repos   []string
	overlap time.Duration
	perPage int // 100, GitHub's most; tests lower it

	responders     []string
	waiting, hold  string
	sevPrefix      string
	severity       map[string]int
	tierPrefix     string
	customerPrefix string
	byRepository   bool // the customer is the repository
	keepDuplicates bool

	now    func() time.Time
	logger *slog.Logger
	opts   rest.Options
	client *rest.Client

	// responded holds first responses by case id: a response, once made,
	// stays, so a changed issue whose response is known costs no comments
	// request.
	mu        sync.Mutex
	responded map[string]time.Time

	// open holds the numbers of the issues last seen open, by repository,
	// and reconciled when they were last checked against the list of open
	// issues: one that left it without an update was deleted or
	// transferred.
	reconcile  time.Duration
	open       map[string]map[int]bool
	reconciled time.Time
}

// New is the sources.Factory of `type: github` (keys in the package
// comment).
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{name: env.Name, overlap: 5 * time.Minute, perPage: 100, responders: DefaultResponders,
		waiting: "waiting-for-customer", hold: "on-hold", sevPrefix: "severity/", severity: DefaultSeverity,
		tierPrefix: "tier/", customerPrefix: "customer/", now: env.Now, logger: env.Logger, responded: map[string]time.Time{},
		reconcile: 6 * time.Hour, open: map[string]map[int]bool{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	const what, example = "the API's address", "https://api.github.com or https://github.example.com/api/v3"
	var token string
	ep := rest.Endpoint{URL: DefaultURL, Overlap: s.overlap}
	own := map[string]func(*yaml.Node, string){
		"repositories":       func(v *yaml.Node, p string) { s.decodeRepos(d, v, p) },
		"mapping":            func(v *yaml.Node, p string) { s.decodeMapping(d, v, p) },
		"reconcile_interval": func(v *yaml.Node, p string) { d.Duration(v, p, &s.reconcile) },
	}
	maps.Copy(own, d.SecretFields("token", env.Dir, &token))
	maps.Copy(own, ep.Fields(d, what, example))
	sources.Fields(d, n, path, own)
	s.base, s.overlap = ep.URL, ep.Overlap
	if token == "" {
		d.Errorf(n, path, "missing credentials: token (or token_file), a personal access token that can read the repositories' issues")
	}
	if len(s.repos) == 0 {
		d.Errorf(n, strictyaml.Join(path, "repositories"), "missing: the repositories to read, such as [acme/support]")
	}
	s.opts = rest.Options{BaseURL: s.base, Auth: rest.Bearer{Token: token}, RequestsPerMinute: ep.RequestsPerMinute,
		Requests: env.Requests, Clock: env.Clock, Logger: s.logger,
		Headers: map[string]string{"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": apiVersion}}
	s.client = rest.New(s.opts)
	return s
}

// setTestClient is the tests' hook: the client paces on clock and sends
// through transport (nil: the default).
func (s *source) setTestClient(clock rest.Clock, transport http.RoundTripper) {
	s.opts.Clock, s.opts.Transport = clock, transport
	s.client = rest.New(s.opts)
}

func (s *source) decodeRepos(d *strictyaml.Decoder, n *yaml.Node, path string) {
	var out []string
	d.Seq(n, path, func(_ int, v *yaml.Node, p string) {
		var r string
		if !d.String(v, p, &r) {
			return
		}
		owner, name, ok := strings.Cut(r, "/")
		if !ok || owner == "" || name == "" || strings.ContainsAny(name, "/ ") || strings.Contains(owner, " ") {
			d.Errorf(v, p, "want owner/repo, such as acme/support")
			return
		}
		if slices.Contains(out, r) {
			d.Errorf(v, p, "%s is listed twice", r)
			return
		}
		out = append(out, r)
	})
	s.repos = out
}

func (s *source) decodeMapping(d *strictyaml.Decoder, n *yaml.Node, path string) {
	str := func(dst *string) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) { d.String(v, p, dst) }
	}
	prefix := func(dst *string) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) {
			if d.String(v, p, dst) && *dst == "" {
				d.Errorf(v, p, "want a label prefix such as %q", "tier/")
			}
		}
	}
	d.Fields(n, path, map[string]func(*yaml.Node, string){
		"waiting_label":   str(&s.waiting),
		"hold_label":      str(&s.hold),
		"severity_prefix": prefix(&s.sevPrefix),
		"tier_prefix":     prefix(&s.tierPrefix),
		"customer_prefix": prefix(&s.customerPrefix),
		"responders": func(v *yaml.Node, p string) {
			var out []string
			d.Seq(v, p, func(_ int, e *yaml.Node, ep string) {
				var a string
				if !d.String(e, ep, &a) {
					return
				}
				if !slices.Contains(associations, strings.ToUpper(a)) {
					d.Errorf(e, ep, "unknown author_association %q: want one of %s", a, strings.Join(associations, ", "))
					return
				}
				out = append(out, strings.ToUpper(a))
			})
			s.responders = out
		},
		"severity": func(v *yaml.Node, p string) {
			m := map[string]int{}
			d.Map(v, p, func(key string, _, val *yaml.Node) {
				kp := strictyaml.Join(p, key)
				var sev int
				if d.Int(val, kp, &sev) && (sev < 1 || sev > 4) {
					d.Errorf(val, kp, "severity %d is not between 1 and 4", sev)
					return
				}
				m[key] = sev
			})
			s.severity = m
		},
		"customer": func(v *yaml.Node, p string) {
			var c string
			if !d.String(v, p, &c) {
				return
			}
			if c != "label" && c != "repository" {
				d.Errorf(v, p, "unknown %q: want label or repository", c)
				return
			}
			s.byRepository = c == "repository"
		},
		"duplicates": func(v *yaml.Node, p string) {
			var c string
			if !d.String(v, p, &c) {
				return
			}
			if c != "deleted" && c != "closed" {
				d.Errorf(v, p, "unknown %q: want deleted or closed", c)
				return
			}
			s.keepDuplicates = c == "closed"
		},
	})
	if s.waiting != "" && s.waiting == s.hold {
		d.Errorf(n, strictyaml.Join(path, "hold_label"), "%q is also the waiting_label", s.hold)
	}
}

// startOfPreviousMonth is where a first Sync starts, in UTC.
func startOfPreviousMonth(now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
}

// Sync lists, per repository, the open issues and those closed since the
// start of the previous month (no cursor), or the issues updated since the
// repository's cursor less the overlap.
func (s *source) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	full := cursor == ""
	var since map[string]time.Time
	if !full {
		var err error
		if since, err = s.parseCursor(cursor); err != nil {
			s.logger.Warn("Unreadable cursor: syncing everything again", "source_name", s.name, "err", err)
			return s.Sync(ctx, "")
		}
	}
	now := s.now()
	start := startOfPreviousMonth(now)
	s.mu.Lock()
	reconcile := !full && now.Sub(s.reconciled) >= s.reconcile
	s.mu.Unlock()
	b := sources.Batch{Full: full}
	next := url.Values{}
	open := map[string]map[int]bool{} // what this Sync learns: open or not
	for _, repo := range s.repos {
		var issues []issue
		var err error
		last := start
		var listedOpen []issue
		if full {
			issues, err = s.openAndClosed(ctx, repo, start)
		} else {
			// The open list first: an issue that leaves it later is
			// updated, so in the list of changes that follows.
			if reconcile {
				listedOpen, err = s.list(ctx, repo, "open", time.Time{})
			}
			if err == nil {
				last = since[repo]
				issues, err = s.list(ctx, repo, "all", last.Add(-s.overlap))
			}
		}
		if err != nil {
			return sources.Batch{}, err
		}
		open[repo] = map[int]bool{}
		for _, is := range issues {
			open[repo][is.Number] = is.State == "open"
		}
		if reconcile {
			b.Deleted = append(b.Deleted, s.vanished(repo, listedOpen, open[repo])...)
		}
		for _, is := range issues {
			if is.UpdatedAt.After(last) {
				last = is.UpdatedAt
			}
			if s.duplicate(is) {
				if !full {
					b.Deleted = append(b.Deleted, caseID(repo, is.Number))
				}
				continue
			}
			if full && is.State == "closed" && is.ClosedAt != nil && is.ClosedAt.Before(start) {
				continue
			}
			c, err := s.build(ctx, repo, is)
			if err != nil {
				if errors.As(err, new(sources.Problem)) {
					b.Problems = append(b.Problems, err)
					continue
				}
				return sources.Batch{}, err
			}
			b.Cases = append(b.Cases, c)
		}
		next.Set(repo, last.UTC().Format(time.RFC3339))
	}
	b.Cursor = next.Encode()
	s.remember(full, full || reconcile, now, open)
	return b, nil
}

// vanished are the issues last seen open that are neither in the list of
// open issues nor among the changed ones (open says what they are now): they
// were deleted or transferred, and gone from open.
func (s *source) vanished(repo string, listedOpen []issue, open map[int]bool) []string {
	listed := map[int]bool{}
	for _, is := range listedOpen {
		listed[is.Number] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.open[repo] {
		if _, changed := open[n]; !changed && !listed[n] {
			out = append(out, caseID(repo, n))
			open[n] = false
		}
	}
	slices.Sort(out)
	return out
}

// remember records the issues a successful Sync saw open or not; a full
// one replaces what was known.
func (s *source) remember(full, reconciled bool, now time.Time, open map[string]map[int]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reconciled {
		s.reconciled = now
	}
	for repo, m := range open {
		if full || s.open[repo] == nil {
			s.open[repo] = map[int]bool{}
		}
		for n, o := range m {
			if o {
				s.open[repo][n] = true
			} else {
				delete(s.open[repo], n)
			}
		}
	}
}

// parseCursor reads a cursor: each repository's latest updated_at, as a
// query string. A repository missing from it (added to the configuration
// since) makes it unreadable, so that a full Sync lists it.
func (s *source) parseCursor(cursor string) (map[string]time.Time, error) {
	v, err := url.ParseQuery(cursor)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for _, repo := range s.repos {
		t, err := time.Parse(time.RFC3339, v.Get(repo))
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", repo, err)
		}
		out[repo] = t
	}
	return out, nil
}

// duplicate reports an issue closed as a duplicate that leaves the cases.
func (s *source) duplicate(is issue) bool {
	return !s.keepDuplicates && is.State == "closed" && is.StateReason != nil && *is.StateReason == "duplicate"
}

// Window lists the open issues and those closed since from, and keeps
// those created before to and not closed before from.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	var out []sla.Case
	for _, repo := range s.repos {
		issues, err := s.openAndClosed(ctx, repo, from)
		if err != nil {
			return nil, err
		}
		for _, is := range issues {
			if !is.CreatedAt.Before(to) || s.duplicate(is) || (is.ClosedAt != nil && is.ClosedAt.Before(from)) {
				continue
			}
			c, err := s.build(ctx, repo, is)
			if err != nil {
				if errors.As(err, new(sources.Problem)) {
					s.logger.Warn("Skipped an issue", "source_name", s.name, "err", err)
					continue
				}
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// openAndClosed lists a repository's open issues and those closed (or
// otherwise updated) since an instant.
func (s *source) openAndClosed(ctx context.Context, repo string, since time.Time) ([]issue, error) {
	open, err := s.list(ctx, repo, "open", time.Time{})
	if err != nil {
		return nil, err
	}
	closed, err := s.list(ctx, repo, "closed", since)
	if err != nil {
		return nil, err
	}
	// An issue closed between the two lists is in both: the later
	// version stands.
	at := map[int]int{}
	for i, is := range open {
		at[is.Number] = i
	}
	for _, is := range closed {
		if i, ok := at[is.Number]; ok {
			if is.UpdatedAt.After(open[i].UpdatedAt) {
				open[i] = is
			}
			continue
		}
		open = append(open, is)
	}
	return open, nil
}

// issue is the part of a GitHub issue the source reads.
type issue struct {
	Number      int        `json:"number"`
	HTMLURL     string     `json:"html_url"`
	State       string     `json:"state"`
	StateReason *string    `json:"state_reason"`
	Title       string     `json:"title"`
	User        *user      `json:"user"`
	Labels      []label    `json:"labels"`
	Comments    int        `json:"comments"`
	PullRequest any        `json:"pull_request"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ClosedAt    *time.Time `json:"closed_at"`
}

type user struct {
	Login string `json:"login"`
}

type label struct {
	Name string `json:"name"`
}

// list reads a repository's issues in a state updated since an instant
// (zero: all), newest update first, following the Link header, and leaves
// out pull requests. An issue met twice (it moved between two pages) is
// kept once.
func (s *source) list(ctx context.Context, repo, state string, since time.Time) ([]issue, error) {
	q := url.Values{"state": {state}, "sort": {"updated"}, "direction": {"desc"}, "per_page": {strconv.Itoa(s.perPage)}}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	var out []issue
	seen := map[int]bool{}
	req := rest.Request{Path: "/repos/" + repo + "/issues", Query: q}
	for page := 1; ; page++ {
		var p []issue
		h, err := s.client.Do(ctx, req, &p)
		if err != nil {
			return nil, fmt.Errorf("listing the %s issues of %s, page %d: %w", state, repo, page, err)
		}
		for _, is := range p {
			if is.PullRequest != nil || seen[is.Number] {
				continue
			}
			seen[is.Number] = true
			out = append(out, is)
		}
		next := rest.NextLink(h)
		if next == "" {
			return out, nil
		}
		req = rest.Request{Path: next}
	}
}

// pages reads every page of a per-issue list into out, following the Link
// header, until stop says it has what it needs.
func pages[T any](ctx context.Context, s *source, path string, stop func([]T) bool) error {
	req := rest.Request{Path: path, Query: url.Values{"per_page": {strconv.Itoa(s.perPage)}}}
	for {
		var p []T
		h, err := s.client.Do(ctx, req, &p)
		if err != nil {
			return err
		}
		next := rest.NextLink(h)
		if stop(p) || next == "" {
			return nil
		}
		req = rest.Request{Path: next}
	}
}

type comment struct {
	Body              string    `json:"body"`
	User              *user     `json:"user"`
	AuthorAssociation string    `json:"author_association"`
	CreatedAt         time.Time `json:"created_at"`
}

type event struct {
	Event     string    `json:"event"`
	CreatedAt time.Time `json:"created_at"`
	Label     *label    `json:"label"`
}

func caseID(repo string, n int) string { return repo + "#" + strconv.Itoa(n) }

// labelled is what an issue's labels say at one instant.
type labelled struct {
	status   sla.Status // for an open issue
	severity int        // 0 none
}

// read reads a set of label names.
func (s *source) read(names []string) labelled {
	var l labelled
	for _, n := range names {
		switch {
		case s.waiting != "" && n == s.waiting:
			l.status = sla.StatusPendingCustomer
		case s.hold != "" && n == s.hold && l.status != sla.StatusPendingCustomer:
			l.status = sla.StatusOnHold
		}
		if v, ok := strings.CutPrefix(n, s.sevPrefix); ok {
			if sev, ok := s.severity[v]; ok && (l.severity == 0 || sev < l.severity) {
				l.severity = sev
			}
		}
	}
	return l
}

// build makes an issue's case. A request that fails with 404 or 410 (the
// issue was deleted or moved meanwhile) is a problem error, as is an issue
// that is not a valid case; any other failure is an error.
func (s *source) build(ctx context.Context, repo string, is issue) (sla.Case, error) {
	id := caseID(repo, is.Number)
	bad := func(format string, args ...any) (sla.Case, error) {
		return sla.Case{}, sources.Problem{Err: fmt.Errorf("issue %s: %s", id, fmt.Sprintf(format, args...))}
	}
	failed := func(what string, err error) (sla.Case, error) {
		var se *rest.StatusError
		if errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone) {
			return bad("%s: %v", what, err)
		}
		return sla.Case{}, fmt.Errorf("issue %s: %s: %w", id, what, err)
	}
	if is.State != "open" && is.State != "closed" {
		return bad("state: unknown %q", is.State)
	}
	names := make([]string, 0, len(is.Labels))
	for _, l := range is.Labels {
		names = append(names, l.Name)
	}
	now := s.read(names)
	c := sla.Case{Source: s.name, ID: id, Key: id, URL: is.HTMLURL, Created: is.CreatedAt, Severity: now.severity,
		Status: now.status, Labels: names}
	if is.State == "closed" {
		c.Status = sla.StatusClosed
		if is.ClosedAt == nil {
			return bad("closed_at: missing for a closed issue")
		}
		c.Resolved = *is.ClosedAt
	}
	for _, n := range names {
		if v, ok := strings.CutPrefix(n, s.tierPrefix); ok && c.Tier == "" {
			c.Tier = v
		}
		if v, ok := strings.CutPrefix(n, s.customerPrefix); ok && c.Customer == "" && !s.byRepository {
			c.Customer = v
		}
	}
	if s.byRepository {
		c.Customer = repo
	}

	// An issue never updated after it was opened has no event but the
	// labels it was opened with.
	var events []event
	if is.UpdatedAt.After(is.CreatedAt) {
		err := pages(ctx, s, fmt.Sprintf("/repos/%s/issues/%d/events", repo, is.Number), func(p []event) bool {
			events = append(events, p...)
			return false
		})
		if err != nil {
			return failed("reading events", err)
		}
	}
	c.StatusHistory, c.SeverityHistory = s.histories(is, c, events)

	fr, err := s.firstResponse(ctx, repo, id, is)
	if err != nil {
		return failed("reading comments", err)
	}
	c.FirstResponse = fr
	c.Normalize()
	if err := c.Validate(); err != nil {
		return bad("%v", err)
	}
	return c, nil
}

// histories replays an issue's events from its creation: the labels it
// holds and whether it is closed give its status and severity after each
// event. A history that does not end where the issue is now (a label
// renamed since its events) ends with the current value at the last
// update.
func (s *source) histories(is issue, c sla.Case, events []event) ([]sla.StatusChange, []sla.SeverityChange) {
	slices.SortStableFunc(events, func(a, b event) int { return a.CreatedAt.Compare(b.CreatedAt) })
	var held []string
	closed := false
	sh := []sla.StatusChange{{At: is.CreatedAt, Status: sla.StatusOpen}}
	var vh []sla.SeverityChange
	addStatus := func(at time.Time, st sla.Status) {
		last := &sh[len(sh)-1]
		switch {
		case last.Status == st:
		case !at.After(last.At):
			last.Status = st // at the same instant (or out of order): the later one stands
			if len(sh) > 1 && sh[len(sh)-2].Status == st {
				sh = sh[:len(sh)-1]
			}
		default:
			sh = append(sh, sla.StatusChange{At: at, Status: st})
		}
	}
	addSeverity := func(at time.Time, sev int) {
		if sev == 0 || (len(vh) > 0 && vh[len(vh)-1].Severity == sev) {
			return
		}
		if len(vh) > 0 && !at.After(vh[len(vh)-1].At) {
			vh[len(vh)-1].Severity = sev
			return
		}
		vh = append(vh, sla.SeverityChange{At: at, Severity: sev})
	}
	for _, e := range events {
		switch e.Event {
		case "labeled":
			if e.Label != nil && !slices.Contains(held, e.Label.Name) {
				held = append(held, e.Label.Name)
			}
		case "unlabeled":
			if e.Label != nil {
				held = slices.DeleteFunc(held, func(n string) bool { return n == e.Label.Name })
			}
		case "closed":
			closed = true
		case "reopened":
			closed = false
		default:
			continue
		}
		at := later(e.CreatedAt, is.CreatedAt)
		l := s.read(held)
		if closed {
			l.status = sla.StatusClosed
		}
		addStatus(at, l.status)
		addSeverity(at, l.severity)
	}
	end := is.UpdatedAt
	if c.Status == sla.StatusClosed {
		end = c.Resolved
	}
	addStatus(later(end, is.CreatedAt), c.Status)
	if len(vh) == 0 {
		addSeverity(is.CreatedAt, c.Severity)
	} else {
		addSeverity(later(end, is.CreatedAt), c.Severity)
	}
	if len(vh) <= 1 {
		vh = nil // the severity alone says it
	}
	return sh, vh
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// firstResponse is the instant of an issue's first comment by a responder
// who is not its author, or zero: known already, or read from its
// comments.
func (s *source) firstResponse(ctx context.Context, repo, id string, is issue) (time.Time, error) {
	s.mu.Lock()
	fr, ok := s.responded[id]
	s.mu.Unlock()
	if ok || is.Comments == 0 {
		return fr, nil
	}
	author := ""
	if is.User != nil {
		author = is.User.Login
	}
	err := pages(ctx, s, fmt.Sprintf("/repos/%s/issues/%d/comments", repo, is.Number), func(p []comment) bool {
		for _, c := range p {
			if !slices.Contains(s.responders, c.AuthorAssociation) || (c.User != nil && c.User.Login == author) || isNote(c.Body) {
				continue
			}
			if fr.IsZero() || c.CreatedAt.Before(fr) {
				fr = c.CreatedAt
			}
		}
		// Comments come oldest first: the first page with a response
		// holds the first one.
		return !fr.IsZero()
	})
	if err != nil {
		return time.Time{}, err
	}
	if !fr.IsZero() {
		s.mu.Lock()
		s.responded[id] = fr
		s.mu.Unlock()
	}
	return fr, nil
}
