// Package jirafake is an in-memory Jira REST API for tests: Cloud's
// enhanced search (/rest/api/3/search/jql, paged by nextPageToken), Data
// Center's search (/rest/api/2/search, paged by startAt), the statuses,
// an issue's changelog (paged startAt/maxResults/values/isLast) and its
// comments (paged startAt/maxResults/total/comments, with JSM's jsdPublic),
// in the payload shapes of Atlassian's documentation. It checks Cloud's
// basic authentication (or Data Center's bearer token), answers 410 on the
// removed /rest/api/3/search, and lets a test inject faults (429 with
// Retry-After, 5xx, malformed JSON). The data set can be changed between
// polls; every request is counted by path. The write endpoint is Jira
// Service Management's request comment (notes.go).
//
// JQL is not parsed: the fake understands the clauses the jira source
// writes (updated >= "…", created < "…", resolved is EMPTY OR resolved >=
// "…", statusCategory != Done OR resolved >= startOfMonth(-1), ORDER BY
// updated|created ASC) and ignores every other clause. Dates in JQL are
// read in UTC, as if the API user's time zone were UTC.
package jirafake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
)

// Paths of the endpoints.
const (
	SearchJQLPath = "/rest/api/3/search/jql" // Cloud, enhanced search
	OldSearchPath = "/rest/api/3/search"     // Cloud, removed: 410
	DCSearchPath  = "/rest/api/2/search"     // Data Center
	StatusPath3   = "/rest/api/3/status"
	StatusPath2   = "/rest/api/2/status"
)

// ChangelogPath is the path of an issue's changelog (Cloud).
func ChangelogPath(key string) string { return "/rest/api/3/issue/" + key + "/changelog" }

// CommentPath is the path of an issue's comments; api is "2" or "3".
func CommentPath(api, key string) string { return "/rest/api/" + api + "/issue/" + key + "/comment" }

// TimeLayout is how Jira writes instants: 2026-03-02T09:15:00.000+0100.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// Item is one field change of a changelog history.
type Item struct {
	Field      string `json:"field"`
	FieldType  string `json:"fieldtype"`
	From       string `json:"from"`
	FromString string `json:"fromString"`
	To         string `json:"to"`
	ToString   string `json:"toString"`
}

// History is one changelog entry.
type History struct {
	ID      string
	Author  string // accountId
	Created time.Time
	Items   []Item
}

// Comment is an issue comment.
type Comment struct {
	ID      string
	Author  string // accountId (Cloud) or name (Data Center)
	Created time.Time
	Body    string
	// Public is JSM's jsdPublic; nil leaves the field out (plain Jira).
	Public *bool
}

// Issue is an issue as the fake keeps it.
type Issue struct {
	ID       string
	Key      string
	Summary  string
	Created  time.Time
	Updated  time.Time
	Resolved time.Time // resolutiondate; zero is null
	Status   string    // its category comes from the server's statuses
	Priority string    // "" is null
	Labels   []string
	Type     string // issuetype name
	Reporter string // accountId
	// Custom are custom fields by id (customfield_10050), as JSON values.
	Custom    map[string]any
	Changelog []History
	Comments  []Comment
}

// Fault is an answer injected instead of the real one.
type Fault = fakeapi.Fault

// Server is the fake. Its exported fields are set before use.
type Server struct {
	// Email and Token are Cloud's basic credentials; with Email empty,
	// Token is a Data Center bearer token.
	Email, Token string
	// MaxResults caps a page; default 50.
	MaxResults int
	// Now is the server's clock (startOfMonth); time.Now when nil.
	Now func() time.Time
	// BaseURL makes the issues' self links.
	BaseURL string

	mu     sync.Mutex
	issues []*Issue
	byKey  map[string]*Issue
	// matched caches search results by JQL until the data changes: a
	// paged search over 100,000 issues asks the same JQL page after page.
	matched  map[string][]*Issue
	statuses map[string]string // name → category key (new, indeterminate, done)
	rec      fakeapi.Recorder
	jqls     []string
	// notes are the comments written through RequestCommentPath (notes.go).
	notes     []Note
	denyNotes bool
}

// New makes a server with Jira's default workflow statuses.
func New(email, token string) *Server {
	return &Server{Email: email, Token: token, statuses: map[string]string{
		"Open": "new", "To Do": "new", "Waiting for support": "new",
		"In Progress": "indeterminate", "Waiting for customer": "indeterminate", "Pending": "indeterminate",
		"Escalated": "indeterminate",
		"Done":      "done", "Resolved": "done", "Closed": "done", "Canceled": "done",
	}}
}

// SetStatus adds or changes a status and its category key.
func (s *Server) SetStatus(name, category string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses[name] = category
}

// Put adds an issue, or replaces the one with its key.
func (s *Server) Put(is Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.matched)
	if s.byKey == nil {
		s.byKey = map[string]*Issue{}
	}
	if old := s.byKey[is.Key]; old != nil {
		*old = is
		return
	}
	c := is
	s.issues = append(s.issues, &c)
	s.byKey[is.Key] = &c
}

// Update changes an issue in place; it reports whether it exists.
func (s *Server) Update(key string, fn func(*Issue)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.byKey[key]
	if is == nil {
		return false
	}
	clear(s.matched)
	fn(is)
	return true
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Inject(f)
}

// Count is the number of requests to path so far.
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.Requests(path)
}

// Total is the number of requests so far.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.Requests("")
}

// ResetCounts sets every counter back to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.ResetCounts()
	s.jqls = nil
}

// JQLs are the queries of the search requests so far.
func (s *Server) JQLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.jqls)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, msgs ...string) {
	writeJSON(w, code, map[string]any{"errorMessages": msgs, "errors": map[string]any{}})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Count(r.URL.Path)
	if !s.authorized(r) {
		writeErr(w, http.StatusUnauthorized, "Client must be authenticated to access this resource.")
		return
	}
	if f, ok := s.rec.Take(r.URL.Path); ok {
		switch {
		case f.Malformed:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"issues":[{"id":"10001","key":`))
		case f.Code == http.StatusTooManyRequests:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			writeErr(w, f.Code, "Rate limit exceeded.")
		default:
			writeErr(w, f.Code, "Internal server error.")
		}
		return
	}
	if s.serveNote(w, r) {
		return
	}
	if r.Method != http.MethodGet {
		writeErr(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	p := r.URL.Path
	switch {
	case p == SearchJQLPath:
		s.search(w, r, true)
	case p == DCSearchPath:
		s.search(w, r, false)
	case p == OldSearchPath:
		writeErr(w, http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
	case p == StatusPath3 || p == StatusPath2:
		s.statusList(w)
	case strings.HasPrefix(p, "/rest/api/3/issue/") && strings.HasSuffix(p, "/changelog"):
		s.changelog(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/rest/api/3/issue/"), "/changelog"))
	case strings.HasPrefix(p, "/rest/api/") && strings.HasSuffix(p, "/comment") && strings.Contains(p, "/issue/"):
		key := strings.TrimSuffix(p[strings.Index(p, "/issue/")+len("/issue/"):], "/comment")
		s.comments(w, r, key)
	default:
		writeErr(w, http.StatusNotFound, "Not found.")
	}
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if s.Email == "" {
		return h == "Bearer "+s.Token
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.Email+":"+s.Token))
	return h == want
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) find(key string) *Issue {
	if is := s.byKey[key]; is != nil {
		return is
	}
	for _, is := range s.issues {
		if is.Key == key || is.ID == key {
			return is
		}
	}
	return nil
}

func (s *Server) pageSize(r *http.Request) int {
	limit := s.MaxResults
	if limit <= 0 {
		limit = 50
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("maxResults")); err == nil && v > 0 && v < limit {
		return v
	}
	return limit
}

var (
	reUpdated  = regexp.MustCompile(`updated >= "(\d{4}/\d\d/\d\d \d\d:\d\d)"`)
	reCreated  = regexp.MustCompile(`created < "(\d{4}/\d\d/\d\d \d\d:\d\d)"`)
	reResolved = regexp.MustCompile(`resolved is EMPTY OR resolved >= "(\d{4}/\d\d/\d\d \d\d:\d\d)"`)
	reRecent   = regexp.MustCompile(`statusCategory != Done OR resolved >= startOfMonth\(-1\)`)
	reOrder    = regexp.MustCompile(`(?i)ORDER BY (updated|created) (ASC|DESC)`)
)

func jqlTime(s string) time.Time {
	t, _ := time.Parse("2006/01/02 15:04", s)
	return t
}

func (s *Server) match(jql string) ([]*Issue, error) {
	cacheKey := jql + "|" + s.now().Format("2006-01")
	if out, ok := s.matched[cacheKey]; ok {
		return out, nil
	}
	var keep []func(*Issue) bool
	if m := reUpdated.FindStringSubmatch(jql); m != nil {
		t := jqlTime(m[1])
		keep = append(keep, func(is *Issue) bool { return !is.Updated.Before(t) })
	}
	if m := reCreated.FindStringSubmatch(jql); m != nil {
		t := jqlTime(m[1])
		keep = append(keep, func(is *Issue) bool { return is.Created.Before(t) })
	}
	if m := reResolved.FindStringSubmatch(jql); m != nil {
		t := jqlTime(m[1])
		keep = append(keep, func(is *Issue) bool { return is.Resolved.IsZero() || !is.Resolved.Before(t) })
	}
	if reRecent.MatchString(jql) {
		now := s.now().UTC()
		start := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
		keep = append(keep, func(is *Issue) bool {
			return s.statuses[is.Status] != "done" || !is.Resolved.IsZero() && !is.Resolved.Before(start)
		})
	}
	var out []*Issue
next:
	for _, is := range s.issues {
		for _, k := range keep {
			if !k(is) {
				continue next
			}
		}
		out = append(out, is)
	}
	if m := reOrder.FindStringSubmatch(jql); m != nil {
		by := func(is *Issue) time.Time { return is.Updated }
		if strings.EqualFold(m[1], "created") {
			by = func(is *Issue) time.Time { return is.Created }
		}
		desc := strings.EqualFold(m[2], "DESC")
		slices.SortStableFunc(out, func(a, b *Issue) int {
			c := by(a).Compare(by(b))
			if c == 0 {
				c = strings.Compare(a.ID, b.ID)
			}
			if desc {
				c = -c
			}
			return c
		})
	}
	if s.matched == nil {
		s.matched = map[string][]*Issue{}
	}
	s.matched[cacheKey] = out
	return out, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, cloud bool) {
	q := r.URL.Query()
	jql := q.Get("jql")
	s.jqls = append(s.jqls, jql)
	if cloud && strings.TrimSpace(strings.SplitN(strings.ToUpper(jql), "ORDER BY", 2)[0]) == "" {
		// The enhanced search refuses unbounded queries.
		writeErr(w, http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
		return
	}
	all, err := s.match(jql)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	start := 0
	if cloud {
		if tok := q.Get("nextPageToken"); tok != "" {
			b, err := base64.RawURLEncoding.DecodeString(tok)
			n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
			if err != nil || err2 != nil || n < 0 {
				writeErr(w, http.StatusBadRequest, "Invalid nextPageToken.")
				return
			}
			start = n
		}
	} else if v := q.Get("startAt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, http.StatusBadRequest, "startAt must be a non-negative number.")
			return
		}
		start = n
	}
	size := s.pageSize(r)
	end := min(start+size, len(all))
	start = min(start, end)
	var fields []string
	for _, f := range strings.Split(q.Get("fields"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			fields = append(fields, f)
		}
	}
	changelog := slices.Contains(strings.Split(q.Get("expand"), ","), "changelog")
	issues := make([]any, 0, end-start)
	for _, is := range all[start:end] {
		issues = append(issues, s.issueJSON(is, fields, changelog))
	}
	if !cloud {
		writeJSON(w, http.StatusOK, map[string]any{
			"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(all), "issues": issues,
		})
		return
	}
	out := map[string]any{"issues": issues, "isLast": end >= len(all)}
	if end < len(all) {
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	writeJSON(w, http.StatusOK, out)
}

func jtime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(TimeLayout)
}

func (s *Server) issueJSON(is *Issue, fields []string, changelog bool) map[string]any {
	all := map[string]any{
		"summary":        is.Summary,
		"created":        jtime(is.Created),
		"updated":        jtime(is.Updated),
		"resolutiondate": jtime(is.Resolved),
		"status":         s.statusJSON(is.Status),
		"priority":       nil,
		"labels":         append([]string{}, is.Labels...),
		"issuetype":      map[string]any{"name": is.Type, "subtask": false},
		"reporter":       map[string]any{"accountId": is.Reporter, "name": is.Reporter},
	}
	if is.Priority != "" {
		all["priority"] = map[string]any{"name": is.Priority, "self": s.BaseURL + "/rest/api/3/priority/" + is.Priority}
	}
	for k, v := range is.Custom {
		all[k] = v
	}
	f := all
	if len(fields) > 0 && !slices.Contains(fields, "*all") {
		f = map[string]any{}
		for _, name := range fields {
			if v, ok := all[name]; ok {
				f[name] = v
			} else if strings.HasPrefix(name, "customfield_") {
				f[name] = nil
			}
		}
	}
	out := map[string]any{
		"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id":     is.ID, "key": is.Key, "self": s.BaseURL + "/rest/api/3/issue/" + is.ID, "fields": f,
	}
	if changelog {
		hs := make([]any, len(is.Changelog))
		for i, h := range is.Changelog {
			hs[i] = historyJSON(h)
		}
		out["changelog"] = map[string]any{"startAt": 0, "maxResults": len(hs), "total": len(hs), "histories": hs}
	}
	return out
}

func (s *Server) statusJSON(name string) map[string]any {
	cat := s.statuses[name]
	if cat == "" {
		cat = "indeterminate"
	}
	names := map[string]string{"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
	ids := map[string]int{"new": 2, "indeterminate": 4, "done": 3}
	return map[string]any{
		"name": name,
		"statusCategory": map[string]any{
			"id": ids[cat], "key": cat, "name": names[cat], "colorName": "blue-gray",
		},
	}
}

func historyJSON(h History) map[string]any {
	return map[string]any{
		"id":      h.ID,
		"author":  map[string]any{"accountId": h.Author, "name": h.Author},
		"created": jtime(h.Created),
		"items":   h.Items,
	}
}

func (s *Server) statusList(w http.ResponseWriter) {
	names := make([]string, 0, len(s.statuses))
	for n := range s.statuses {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]any, len(names))
	for i, n := range names {
		m := s.statusJSON(n)
		m["id"] = strconv.Itoa(10000 + i)
		out[i] = m
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) offsets(w http.ResponseWriter, r *http.Request, total int) (int, int, bool) {
	start := 0
	if v := r.URL.Query().Get("startAt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, http.StatusBadRequest, "startAt must be a non-negative number.")
			return 0, 0, false
		}
		start = n
	}
	size := s.pageSize(r)
	end := min(start+size, total)
	return min(start, end), end, true
}

func (s *Server) changelog(w http.ResponseWriter, r *http.Request, key string) {
	is := s.find(key)
	if is == nil {
		writeErr(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	start, end, ok := s.offsets(w, r, len(is.Changelog))
	if !ok {
		return
	}
	vals := make([]any, 0, end-start)
	for _, h := range is.Changelog[start:end] {
		vals = append(vals, historyJSON(h))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"self":       fmt.Sprintf("%s%s?startAt=%d", s.BaseURL, r.URL.Path, start),
		"maxResults": s.pageSize(r), "startAt": start, "total": len(is.Changelog),
		"isLast": end >= len(is.Changelog), "values": vals,
	})
}

func (s *Server) comments(w http.ResponseWriter, r *http.Request, key string) {
	is := s.find(key)
	if is == nil {
		writeErr(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	start, end, ok := s.offsets(w, r, len(is.Comments))
	if !ok {
		return
	}
	vals := make([]any, 0, end-start)
	for _, c := range is.Comments[start:end] {
		m := map[string]any{
			"id":      c.ID,
			"author":  map[string]any{"accountId": c.Author, "name": c.Author},
			"created": jtime(c.Created),
			"updated": jtime(c.Created),
			"body": map[string]any{"type": "doc", "version": 1, "content": []any{map[string]any{
				"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": c.Body}},
			}}},
		}
		if c.Public != nil {
			m["jsdPublic"] = *c.Public
		}
		vals = append(vals, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"startAt": start, "maxResults": s.pageSize(r), "total": len(is.Comments), "comments": vals,
	})
}
