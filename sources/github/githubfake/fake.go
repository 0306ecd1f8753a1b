// Package githubfake is an in-memory GitHub REST API (version 2022-11-28)
// for tests: a repository's issues (GET /repos/{owner}/{repo}/issues with
// state, since, sort, direction, per_page and page; pull requests mixed
// in, as GitHub lists them), an issue's comments
// (GET /repos/{owner}/{repo}/issues/{number}/comments, and POST there to
// add one) and events
// (GET /repos/{owner}/{repo}/issues/{number}/events), paged by a Link
// header with per_page capped at 100, in the payload shapes of GitHub's
// documentation. It checks the token (401 "Bad credentials" otherwise),
// sends the x-ratelimit-* headers with every answer and answers 403 with
// x-ratelimit-remaining 0 once the hourly limit is used up, and takes
// faults a test injects (429 with Retry-After, 5xx, truncated JSON).
// Every request is counted by path.
package githubfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
)

// Fault is an answer injected instead of the real one.
type Fault = fakeapi.Fault

// IssuesPath is a repository's issue list ("owner/repo").
func IssuesPath(repo string) string { return "/repos/" + repo + "/issues" }

// CommentsPath is an issue's comments.
func CommentsPath(repo string, n int) string {
	return fmt.Sprintf("/repos/%s/issues/%d/comments", repo, n)
}

// EventsPath is an issue's events.
func EventsPath(repo string, n int) string { return fmt.Sprintf("/repos/%s/issues/%d/events", repo, n) }

const docs = "https://docs.github.com/rest"

// Issue is an issue (or a pull request) of the fake.
type Issue struct {
	Number int
	Title  string
	// User is the author's login; AuthorAssociation theirs (NONE when
	// empty).
	User, AuthorAssociation string
	Labels                  []string
	State                   string // open when empty
	StateReason             string // completed, not_planned, duplicate, reopened or ""
	PullRequest             bool
	CreatedAt               time.Time
	UpdatedAt               time.Time // CreatedAt when zero
	ClosedAt                time.Time

	comments []comment
	events   []event
	deleted  bool
}

type comment struct {
	id          int64
	user, assoc string
	body        string // "Me too" when empty
	at          time.Time
}

type event struct {
	id          int64
	actor, kind string
	label       string
	at          time.Time
}

type repo struct {
	id     int64
	issues map[int]*Issue
	next   int
}

// Server is the fake. Make it with New.
type Server struct {
	// Token is the accepted token ("Bearer" or "token" scheme).
	Token string
	// MaxPerPage caps per_page (GitHub: 100); the default is 30.
	MaxPerPage int
	// Limit is the hourly request limit (GitHub: 5,000 with a token).
	Limit int
	// Now is the fake's clock: the rate-limit window resets on it.
	Now func() time.Time
	// NoteUser and NoteAssociation are who a comment POSTed with the
	// token is written as (the token's user): "sla-bot", MEMBER by default.
	NoteUser, NoteAssociation string
	// OnRequest, when set, sees each request before it is answered
	// (outside the fake's lock: it may change the data).
	OnRequest func(*http.Request)

	mu               sync.Mutex
	repos            map[string]*repo
	nextID           int64
	used             int
	reset            time.Time
	fakeapi.Recorder // Inject, Requests, ResetCounts
	lastHead         http.Header
}

// New makes an empty fake accepting token.
func New(token string) *Server {
	return &Server{Token: token, MaxPerPage: 100, Limit: 5000, Now: time.Now, repos: map[string]*repo{}, nextID: 1_000_000}
}

// AddRepo creates an empty repository ("owner/repo").
func (s *Server) AddRepo(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repoLocked(name)
}

func (s *Server) repoLocked(name string) *repo {
	r := s.repos[name]
	if r == nil {
		s.nextID++
		r = &repo{id: s.nextID, issues: map[int]*Issue{}}
		s.repos[name] = r
	}
	return r
}

// AddIssue adds an issue, or a pull request, to a repository (made if
// needed) and returns its number; a zero Number takes the next. Its labels
// get a labeled event at creation, as GitHub records labels set when an
// issue is opened; a closed one gets a closed event at ClosedAt.
func (s *Server) AddIssue(name string, is Issue) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(name)
	if is.Number == 0 {
		r.next++
		is.Number = r.next
	}
	r.next = max(r.next, is.Number)
	if is.State == "" {
		is.State = "open"
	}
	if is.AuthorAssociation == "" {
		is.AuthorAssociation = "NONE"
	}
	if is.UpdatedAt.IsZero() {
		is.UpdatedAt = is.CreatedAt
	}
	is.Labels = slices.Clone(is.Labels)
	for _, l := range is.Labels {
		is.events = append(is.events, s.event(is.User, "labeled", l, is.CreatedAt))
	}
	if is.State == "closed" {
		if is.ClosedAt.IsZero() {
			is.ClosedAt = is.UpdatedAt
		}
		if is.UpdatedAt.Before(is.ClosedAt) {
			is.UpdatedAt = is.ClosedAt // closing updates an issue
		}
		if is.StateReason == "" {
			is.StateReason = "completed"
		}
		is.events = append(is.events, s.event(is.User, "closed", "", is.ClosedAt))
	}
	r.issues[is.Number] = &is
	return is.Number
}

func (s *Server) event(actor, kind, label string, at time.Time) event {
	s.nextID++
	return event{id: s.nextID, actor: actor, kind: kind, label: label, at: at}
}

// update changes an issue at instant at and reports whether it exists.
func (s *Server) update(name string, n int, at time.Time, fn func(*Issue)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[name]
	if r == nil || r.issues[n] == nil || r.issues[n].deleted {
		return false
	}
	is := r.issues[n]
	fn(is)
	is.UpdatedAt = at
	return true
}

// Label adds a label to an issue at instant at, by actor.
func (s *Server) Label(name string, n int, at time.Time, actor, label string) bool {
	return s.update(name, n, at, func(is *Issue) {
		if !slices.Contains(is.Labels, label) {
			is.Labels = append(is.Labels, label)
			is.events = append(is.events, s.event(actor, "labeled", label, at))
		}
	})
}

// Unlabel removes a label from an issue.
func (s *Server) Unlabel(name string, n int, at time.Time, actor, label string) bool {
	return s.update(name, n, at, func(is *Issue) {
		if i := slices.Index(is.Labels, label); i >= 0 {
			is.Labels = slices.Delete(is.Labels, i, i+1)
			is.events = append(is.events, s.event(actor, "unlabeled", label, at))
		}
	})
}

// Close closes an issue with a state_reason (completed, not_planned or
// duplicate); a duplicate also gets the marked_as_duplicate event.
func (s *Server) Close(name string, n int, at time.Time, actor, reason string) bool {
	return s.update(name, n, at, func(is *Issue) {
		is.State, is.StateReason, is.ClosedAt = "closed", reason, at
		if reason == "duplicate" {
			is.events = append(is.events, s.event(actor, "marked_as_duplicate", "", at))
		}
		is.events = append(is.events, s.event(actor, "closed", "", at))
	})
}

// Reopen reopens an issue.
func (s *Server) Reopen(name string, n int, at time.Time, actor string) bool {
	return s.update(name, n, at, func(is *Issue) {
		is.State, is.StateReason, is.ClosedAt = "open", "reopened", time.Time{}
		is.events = append(is.events, s.event(actor, "reopened", "", at))
	})
}

// Comment adds a comment by user, whose author_association is assoc.
func (s *Server) Comment(name string, n int, at time.Time, user, assoc string) bool {
	return s.update(name, n, at, func(is *Issue) {
		s.nextID++
		is.comments = append(is.comments, comment{id: s.nextID, user: user, assoc: assoc, at: at})
	})
}

// Touch updates an issue without any event (an edit of its title).
func (s *Server) Touch(name string, n int, at time.Time) bool {
	return s.update(name, n, at, func(*Issue) {})
}

// Delete deletes an issue, as a GitHub administrator can: it leaves the
// lists, and its comments and events answer 410 Gone.
func (s *Server) Delete(name string, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[name]
	if r == nil || r.issues[n] == nil {
		return false
	}
	r.issues[n].deleted = true
	return true
}

// Exhaust uses up the rate limit until the instant reset, as another
// client of the same token would.
func (s *Server) Exhaust(reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used, s.reset = s.Limit, reset
}

// LastHeader is the last request's header.
func (s *Server) LastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastHead.Clone()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.OnRequest != nil {
		s.OnRequest(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Recorder.Count(r.URL.Path)
	s.lastHead = r.Header.Clone()
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if s.Token == "" || tok != s.Token || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": docs})
		return
	}
	if v := r.Header.Get("X-GitHub-Api-Version"); v != "" && v != "2022-11-28" && v != "2026-03-10" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("Unsupported 'X-GitHub-Api-Version' header: %s", v), "documentation_url": docs})
		return
	}
	if !s.limit(w) {
		return
	}
	if f, ok := s.Recorder.Take(r.URL.Path); ok {
		switch {
		case f.Malformed:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`[{"url":"https://api.github.com/repos/octocat/Hello-World/issues/1347","number":`))
		case f.Code == http.StatusTooManyRequests:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			writeJSON(w, f.Code, map[string]string{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"documentation_url": docs + "/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})
		default:
			writeJSON(w, f.Code, map[string]string{"message": http.StatusText(f.Code)})
		}
		return
	}
	if r.Method == http.MethodPost {
		s.post(w, r)
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": docs, "status": "404"})
		return
	}
	// /repos/{owner}/{repo}/issues[/{number}/{comments|events}]
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 4 || parts[0] != "repos" || parts[3] != "issues" || s.repos[parts[1]+"/"+parts[2]] == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": docs, "status": "404"})
		return
	}
	name := parts[1] + "/" + parts[2]
	rp := s.repos[name]
	switch {
	case len(parts) == 4:
		s.list(w, r, name, rp)
	case len(parts) == 6 && (parts[5] == "comments" || parts[5] == "events"):
		n, err := strconv.Atoi(parts[4])
		is := rp.issues[n]
		switch {
		case err != nil || is == nil:
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": docs, "status": "404"})
		case is.deleted:
			writeJSON(w, http.StatusGone, map[string]string{"message": "This issue was deleted", "documentation_url": docs, "status": "410"})
		case parts[5] == "comments":
			s.comments(w, r, name, is)
		default:
			s.events(w, r, name, is)
		}
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": docs, "status": "404"})
	}
}

// limit counts the request against the hourly limit, sets the
// x-ratelimit-* headers and answers 403 once the limit is used up.
func (s *Server) limit(w http.ResponseWriter) bool {
	now := s.Now()
	if !now.Before(s.reset) {
		s.used, s.reset = 0, now.Add(time.Hour).Truncate(time.Second)
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.Limit))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	if s.used >= s.Limit {
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", strconv.Itoa(s.used))
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "API rate limit exceeded for user ID 1.",
			"documentation_url": docs + "/overview/rate-limits-for-the-rest-api"})
		return false
	}
	s.used++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.Limit-s.used))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.used))
	return true
}

func validation(w http.ResponseWriter, field, value string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
		"errors":            []map[string]string{{"resource": "Issue", "field": field, "code": "invalid", "value": value}},
		"documentation_url": docs + "/issues/issues#list-repository-issues", "status": "422"})
}

// page reads page and per_page: GitHub caps per_page at 100 rather than
// refusing more.
func (s *Server) page(r *http.Request) (page, size int) {
	q := r.URL.Query()
	page, size = 1, 30
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n >= 1 {
		page = n
	}
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n >= 1 {
		size = min(n, s.MaxPerPage)
	}
	return page, size
}

// link sets the Link header of a page of total items: next and last, and
// prev and first past the first page, as GitHub does.
func link(w http.ResponseWriter, r *http.Request, page, size, total int) {
	last := max((total+size-1)/size, 1)
	if last == 1 && page == 1 {
		return
	}
	// The path as the client sent it: behind a prefix (/api/v3 of
	// GitHub Enterprise Server) too.
	path := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		path = u.Path
	}
	at := func(p int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf("<%s%s?%s>", base(r), path, q.Encode())
	}
	var links []string
	if page > 1 {
		links = append(links, at(page-1)+`; rel="prev"`)
	}
	if page < last {
		links = append(links, at(page+1)+`; rel="next"`, at(last)+`; rel="last"`)
	}
	if page > 1 {
		links = append(links, at(1)+`; rel="first"`)
	}
	w.Header().Set("Link", strings.Join(links, ", "))
}

func window[T any](items []T, page, size int) []T {
	from := min((page-1)*size, len(items))
	return items[from:min(from+size, len(items))]
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, name string, rp *repo) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		validation(w, "state", state)
		return
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			validation(w, "since", v)
			return
		}
		since = t
	}
	key := func(is *Issue) time.Time { return is.CreatedAt }
	switch o := q.Get("sort"); o {
	case "", "created":
	case "updated":
		key = func(is *Issue) time.Time { return is.UpdatedAt }
	default:
		validation(w, "sort", o)
		return
	}
	desc := q.Get("direction") != "asc"
	var all []*Issue
	for _, is := range rp.issues {
		if is.deleted || (state != "all" && is.State != state) || is.UpdatedAt.Before(since) {
			continue
		}
		all = append(all, is)
	}
	slices.SortFunc(all, func(a, b *Issue) int {
		c := key(a).Compare(key(b))
		if c == 0 {
			c = a.Number - b.Number
		}
		if desc {
			return -c
		}
		return c
	})
	page, size := s.page(r)
	link(w, r, page, size, len(all))
	out := make([]map[string]any, 0, size)
	for _, is := range window(all, page, size) {
		out = append(out, s.issueJSON(name, rp, is))
	}
	writeJSON(w, http.StatusOK, out)
}

func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// userJSON is a simple user as the documentation's examples show one.
func userJSON(login string) map[string]any {
	id := int64(0)
	for _, c := range login {
		id = id*31 + int64(c)
	}
	id = id%1_000_000 + 1
	return map[string]any{"login": login, "id": id, "node_id": "MDQ6VXNlcjE=",
		"avatar_url": "https://github.com/images/error/octocat_happy.gif", "gravatar_id": "",
		"url": "https://api.github.com/users/" + login, "html_url": "https://github.com/" + login,
		"type": "User", "site_admin": false}
}

func labelJSON(name string) map[string]any {
	return map[string]any{"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
		"url": "https://api.github.com/repos/octocat/Hello-World/labels/" + url.PathEscape(name), "name": name,
		"description": nil, "color": "f29513", "default": false}
}

func (s *Server) issueJSON(name string, rp *repo, is *Issue) map[string]any {
	api := "https://api.github.com/repos/" + name
	labels := make([]map[string]any, 0, len(is.Labels))
	for _, l := range is.Labels {
		labels = append(labels, labelJSON(l))
	}
	var reason, closedBy any
	if is.StateReason != "" {
		reason = is.StateReason
	}
	if is.State == "closed" {
		closedBy = userJSON("octocat")
	}
	m := map[string]any{
		"id": rp.id*100_000 + int64(is.Number), "node_id": "MDU6SXNzdWUx",
		"url": fmt.Sprintf("%s/issues/%d", api, is.Number), "repository_url": api,
		"labels_url":   fmt.Sprintf("%s/issues/%d/labels{/name}", api, is.Number),
		"comments_url": fmt.Sprintf("%s/issues/%d/comments", api, is.Number),
		"events_url":   fmt.Sprintf("%s/issues/%d/events", api, is.Number),
		"html_url":     fmt.Sprintf("https://github.com/%s/issues/%d", name, is.Number),
		"number":       is.Number, "state": is.State, "state_reason": reason, "title": is.Title,
		"body": "I'm having a problem with this.", "user": userJSON(is.User), "labels": labels,
		"assignee": nil, "assignees": []any{}, "milestone": nil, "locked": false, "active_lock_reason": nil,
		"comments": len(is.comments), "closed_at": stamp(is.ClosedAt), "created_at": stamp(is.CreatedAt),
		"updated_at": stamp(is.UpdatedAt), "closed_by": closedBy, "author_association": is.AuthorAssociation,
	}
	if is.PullRequest {
		m["html_url"] = fmt.Sprintf("https://github.com/%s/pull/%d", name, is.Number)
		m["pull_request"] = map[string]any{"url": fmt.Sprintf("%s/pulls/%d", api, is.Number),
			"html_url": m["html_url"], "diff_url": fmt.Sprint(m["html_url"], ".diff"),
			"patch_url": fmt.Sprint(m["html_url"], ".patch"), "merged_at": nil}
	}
	return m
}

func (s *Server) comments(w http.ResponseWriter, r *http.Request, name string, is *Issue) {
	page, size := s.page(r)
	link(w, r, page, size, len(is.comments))
	out := make([]map[string]any, 0, size)
	for _, c := range window(is.comments, page, size) {
		out = append(out, map[string]any{
			"id": c.id, "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
			"url":      fmt.Sprintf("https://api.github.com/repos/%s/issues/comments/%d", name, c.id),
			"html_url": fmt.Sprintf("https://github.com/%s/issues/%d#issuecomment-%d", name, is.Number, c.id),
			"body":     cmp.Or(c.body, "Me too"), "user": userJSON(c.user), "created_at": stamp(c.at), "updated_at": stamp(c.at),
			"issue_url":          fmt.Sprintf("https://api.github.com/repos/%s/issues/%d", name, is.Number),
			"author_association": c.assoc, "performed_via_github_app": nil,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request, name string, is *Issue) {
	page, size := s.page(r)
	link(w, r, page, size, len(is.events))
	out := make([]map[string]any, 0, size)
	for _, e := range window(is.events, page, size) {
		m := map[string]any{
			"id": e.id, "node_id": "MDEwOklzc3VlRXZlbnQx",
			"url":   fmt.Sprintf("https://api.github.com/repos/%s/issues/events/%d", name, e.id),
			"actor": userJSON(e.actor), "event": e.kind, "commit_id": nil, "commit_url": nil,
			"created_at": stamp(e.at), "performed_via_github_app": nil,
		}
		if e.label != "" {
			m["label"] = map[string]any{"name": e.label, "color": "f29513"}
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, out)
}

func base(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// post answers POST /repos/{owner}/{repo}/issues/{number}/comments: a
// comment with the JSON body's "body", written as NoteUser at Now.
func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	notFound := func() {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": docs, "status": "404"})
	}
	if len(parts) != 6 || parts[0] != "repos" || parts[3] != "issues" || parts[5] != "comments" {
		notFound()
		return
	}
	name := parts[1] + "/" + parts[2]
	rp := s.repos[name]
	n, err := strconv.Atoi(parts[4])
	if rp == nil || err != nil || rp.issues[n] == nil {
		notFound()
		return
	}
	is := rp.issues[n]
	if is.deleted {
		writeJSON(w, http.StatusGone, map[string]string{"message": "This issue was deleted", "documentation_url": docs, "status": "410"})
		return
	}
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == nil || *in.Body == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request.\n\n\"body\" wasn't supplied.", "documentation_url": docs, "status": "422"})
		return
	}
	at := s.Now().UTC().Truncate(time.Second)
	s.nextID++
	c := comment{id: s.nextID, user: cmp.Or(s.NoteUser, "sla-bot"), assoc: cmp.Or(s.NoteAssociation, "MEMBER"), body: *in.Body, at: at}
	is.comments = append(is.comments, c)
	is.UpdatedAt = at
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": c.id, "body": c.body, "user": userJSON(c.user), "author_association": c.assoc,
		"created_at": stamp(at), "updated_at": stamp(at),
		"html_url": fmt.Sprintf("https://github.com/%s/issues/%d#issuecomment-%d", name, is.Number, c.id),
	})
}

// Bodies are the bodies of an issue's comments, oldest first ("Me too"
// for those added with Comment).
func (s *Server) Bodies(name string, n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[name]
	if r == nil || r.issues[n] == nil {
		return nil
	}
	var out []string
	for _, c := range r.issues[n].comments {
		out = append(out, cmp.Or(c.body, "Me too"))
	}
	return out
}
