// Package zendeskfake is an in-memory Zendesk Support API for tests: the
// cursor-based incremental ticket export (with the organizations
// side-load), ticket audits (offset pagination), the export of search
// results for open tickets and organizations/show_many, in the payload
// shapes of Zendesk's
// documentation, with its authentication check, and faults a test can
// inject (429 with Retry-After, 5xx, malformed JSON). The data set can be
// changed between polls; every request is counted by path. The write
// endpoint is the ticket update that adds a comment (notes.go).
package zendeskfake

import (
	"encoding/base64"
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

// ExportPath is the cursor-based incremental ticket export.
const ExportPath = "/api/v2/incremental/tickets/cursor.json"

// SearchExportPath is the export of search results (cursor pagination).
const SearchExportPath = "/api/v2/search/export.json"

// OrganizationsPath is the path of organizations/show_many.
const OrganizationsPath = "/api/v2/organizations/show_many.json"

// AuditsPath is the path of a ticket's audits.
func AuditsPath(id int64) string { return fmt.Sprintf("/api/v2/tickets/%d/audits.json", id) }

// CustomField is a ticket's custom field value.
type CustomField struct {
	ID    int64 `json:"id"`
	Value any   `json:"value"`
}

// Ticket is a ticket as the fake keeps it.
type Ticket struct {
	ID             int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Status         string // new, open, pending, hold, solved, closed, deleted
	Priority       string // urgent, high, normal, low or "" (null)
	Type           string // "" is null
	Tags           []string
	OrganizationID int64 // 0 is null
	RequesterID    int64
	SubmitterID    int64 // who opened it, and wrote the description; RequesterID when 0
	CustomFields   []CustomField
	Subject        string

	seq    int64
	audits []audit
}

// Event is an audit event (Create, Change or Comment).
type Event struct {
	ID            int64  `json:"id"`
	Type          string `json:"type"`
	FieldName     string `json:"field_name,omitempty"`
	Value         any    `json:"value,omitempty"`
	PreviousValue any    `json:"previous_value,omitempty"`
	Public        *bool  `json:"public,omitempty"`
	AuthorID      int64  `json:"author_id,omitempty"`
	Body          string `json:"body,omitempty"`
}

type audit struct {
	ID        int64     `json:"id"`
	TicketID  int64     `json:"ticket_id"`
	CreatedAt time.Time `json:"created_at"`
	AuthorID  int64     `json:"author_id"`
	Events    []Event   `json:"events"`
}

// Fault is an answer injected instead of the real one.
type Fault = fakeapi.Fault

// Server is the fake. Its zero value is not usable: call New.
type Server struct {
	// Email and Token are the accepted basic credentials
	// ("{email}/token:{token}"); OAuthToken the accepted bearer token.
	Email, Token, OAuthToken string
	// PageSize is the export's page size (Zendesk's default is 1000).
	PageSize int
	// AuditPageSize is the audits' page size (offset pagination with
	// next_page; Zendesk's default is 100).
	AuditPageSize int

	mu               sync.Mutex
	seq              int64
	nextID           int64
	tickets          map[int64]*Ticket
	orgs             map[int64]string
	fakeapi.Recorder // Inject, Requests, ResetCounts
	// notes are the comments added by ticket updates (notes.go).
	notes     []Note
	denyNotes bool
}

// New makes an empty fake accepting the given basic credentials.
func New(email, token string) *Server {
	return &Server{Email: email, Token: token, PageSize: 1000, AuditPageSize: 100, nextID: 1000,
		tickets: map[int64]*Ticket{}, orgs: map[int64]string{}}
}

// AddOrganization adds or renames an organization.
func (s *Server) AddOrganization(id int64, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[id] = name
}

// AddTicket creates a ticket as of t.CreatedAt, with its Create audit
// (status, priority and the requester's public description).
func (s *Server) AddTicket(t Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Status == "" {
		t.Status = "new"
	}
	t.UpdatedAt = t.CreatedAt
	if t.SubmitterID == 0 {
		t.SubmitterID = t.RequesterID
	}
	evs := []Event{
		{ID: s.id(), Type: "Comment", Public: ptr(true), AuthorID: t.SubmitterID, Body: "Help!"},
		{ID: s.id(), Type: "Create", FieldName: "status", Value: t.Status},
		{ID: s.id(), Type: "Create", FieldName: "priority", Value: nullable(t.Priority)},
	}
	t.audits = []audit{{ID: s.id(), TicketID: t.ID, CreatedAt: t.CreatedAt, AuthorID: t.SubmitterID, Events: evs}}
	s.seq++
	t.seq = s.seq
	s.tickets[t.ID] = &t
}

// Change sets a ticket's status or priority at instant at, by author, with
// a Change audit.
func (s *Server) Change(id int64, at time.Time, author int64, field, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	var prev string
	switch field {
	case "status":
		prev, t.Status = t.Status, value
	case "priority":
		prev, t.Priority = t.Priority, value
	default:
		panic("zendeskfake: cannot change " + field)
	}
	s.touch(t, at, author, Event{ID: s.id(), Type: "Change", FieldName: field, Value: nullable(value), PreviousValue: nullable(prev)})
}

// Comment adds a comment at instant at.
func (s *Server) Comment(id int64, at time.Time, author int64, public bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touch(s.tickets[id], at, author, Event{ID: s.id(), Type: "Comment", Public: ptr(public), AuthorID: author, Body: "Reply"})
}

// Delete deletes a ticket: the export shows it with status "deleted".
func (s *Server) Delete(id int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	t.Status = "deleted"
	t.UpdatedAt = at
	s.seq++
	t.seq = s.seq
}

func (s *Server) touch(t *Ticket, at time.Time, author int64, ev Event) {
	t.UpdatedAt = at
	t.audits = append(t.audits, audit{ID: s.id(), TicketID: t.ID, CreatedAt: at, AuthorID: author, Events: []Event{ev}})
	s.seq++
	t.seq = s.seq
}

func (s *Server) id() int64 { s.nextID++; return s.nextID }

func ptr[T any](v T) *T { return &v }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Recorder.Count(r.URL.Path)
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Couldn't authenticate you"})
		return
	}
	if f, ok := s.Recorder.Take(r.URL.Path); ok {
		switch {
		case f.Malformed:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"tickets":[{"id":1,`))
		case f.Code == http.StatusTooManyRequests:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(f.Code)
			_, _ = w.Write([]byte("Too Many Requests"))
		default:
			writeJSON(w, f.Code, map[string]string{"error": "InternalError", "description": "Something went wrong"})
		}
		return
	}
	if s.serveNote(w, r) {
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "MethodNotAllowed"})
		return
	}
	w.Header().Set("ratelimit-limit", "700")
	w.Header().Set("ratelimit-remaining", "699")
	w.Header().Set("ratelimit-reset", "60")
	switch p := r.URL.Path; {
	case p == ExportPath:
		s.export(w, r)
	case p == SearchExportPath:
		s.searchExport(w, r)
	case p == OrganizationsPath:
		var orgs []map[string]any
		for _, f := range strings.Split(r.URL.Query().Get("ids"), ",") {
			id, err := strconv.ParseInt(f, 10, 64)
			if name, ok := s.orgs[id]; ok && err == nil {
				orgs = append(orgs, map[string]any{"id": id, "name": name,
					"url": fmt.Sprintf("%s/api/v2/organizations/%d.json", base(r), id)})
			}
		}
		if orgs == nil {
			orgs = []map[string]any{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"organizations": orgs, "next_page": nil, "previous_page": nil, "count": len(orgs)})
	case strings.HasPrefix(p, "/api/v2/tickets/") && strings.HasSuffix(p, "/audits.json"):
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p, "/api/v2/tickets/"), "/audits.json"), 10, 64)
		t := s.tickets[id]
		if err != nil || t == nil || t.Status == "deleted" {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "RecordNotFound", "description": "Not found"})
			return
		}
		s.audits(w, r, t)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "InvalidEndpoint", "description": "Not found"})
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); s.OAuthToken != "" && h == "Bearer "+s.OAuthToken {
		return true
	}
	u, p, ok := r.BasicAuth()
	return ok && s.Token != "" && u == s.Email+"/token" && p == s.Token
}

// export answers the cursor-based incremental export: start_time (epoch
// seconds) the first time, then cursor, which is opaque.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after int64 // the last change already returned
	var since time.Time
	switch {
	case q.Get("cursor") != "":
		b, err := base64.RawURLEncoding.DecodeString(q.Get("cursor"))
		n, err2 := strconv.ParseInt(strings.TrimPrefix(string(b), "seq:"), 10, 64)
		if err != nil || err2 != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidPaginationParameter", "description": "cursor is invalid"})
			return
		}
		after = n
	case q.Get("start_time") != "":
		n, err := strconv.ParseInt(q.Get("start_time"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidValue", "description": "start_time is invalid"})
			return
		}
		since = time.Unix(n, 0)
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidValue", "description": "start_time or cursor is required"})
		return
	}
	var all []*Ticket
	for _, t := range s.tickets {
		if t.seq > after && !t.UpdatedAt.Before(since) {
			all = append(all, t)
		}
	}
	slices.SortFunc(all, func(a, b *Ticket) int { return int(a.seq - b.seq) })
	size := s.PageSize
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 && n < size {
		size = n
	}
	page := all[:min(size, len(all))]
	last := after
	if len(page) > 0 {
		last = page[len(page)-1].seq
	}
	cur := base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.FormatInt(last, 10)))
	tickets := make([]map[string]any, len(page))
	var orgs []map[string]any
	seen := map[int64]bool{}
	for i, t := range page {
		tickets[i] = s.ticketJSON(r, t)
		if name, ok := s.orgs[t.OrganizationID]; ok && !seen[t.OrganizationID] {
			seen[t.OrganizationID] = true
			orgs = append(orgs, map[string]any{"id": t.OrganizationID, "name": name,
				"url": fmt.Sprintf("%s/api/v2/organizations/%d.json", base(r), t.OrganizationID)})
		}
	}
	out := map[string]any{
		"tickets":       tickets,
		"after_cursor":  cur,
		"after_url":     base(r) + ExportPath + "?cursor=" + cur,
		"before_cursor": nil,
		"before_url":    nil,
		"end_of_stream": len(page) == len(all),
	}
	if strings.Contains(q.Get("include"), "organizations") {
		if orgs == nil {
			orgs = []map[string]any{}
		}
		out["organizations"] = orgs
	}
	writeJSON(w, http.StatusOK, out)
}

// audits answers a ticket's audits, oldest first, with offset pagination
// (page, per_page; next_page and previous_page links).
func (s *Server) audits(w http.ResponseWriter, r *http.Request, t *Ticket) {
	size := s.AuditPageSize
	if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 && n < size {
		size = n
	}
	page := 1
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 {
		page = n
	}
	from := min((page-1)*size, len(t.audits))
	to := min(from+size, len(t.audits))
	link := func(p int) any {
		if p < 1 || (p-1)*size >= len(t.audits) {
			return nil
		}
		return fmt.Sprintf("%s%s?page=%d&per_page=%d", base(r), r.URL.Path, p, size)
	}
	writeJSON(w, http.StatusOK, map[string]any{"audits": t.audits[from:to],
		"next_page": link(page + 1), "previous_page": link(page - 1), "count": len(t.audits)})
}

// searchExport answers the export of search results for the one query the
// fake understands: "type:ticket status<solved updated<YYYY-MM-DD", with
// filter[type]=ticket, page[size] (at most 1000) and page[after].
func (s *Server) searchExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var before time.Time
	for _, f := range strings.Fields(q.Get("query")) {
		if d, ok := strings.CutPrefix(f, "updated<"); ok {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidValue", "description": "bad date"})
				return
			}
			before = t
		}
	}
	if q.Get("filter[type]") != "ticket" || !strings.Contains(q.Get("query"), "status<solved") || before.IsZero() {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidValue", "description": "the fake only knows type:ticket status<solved updated<DATE with filter[type]=ticket"})
		return
	}
	var all []*Ticket
	for _, t := range s.tickets {
		switch t.Status {
		case "new", "open", "pending", "hold":
			if t.UpdatedAt.Before(before) {
				all = append(all, t)
			}
		}
	}
	slices.SortFunc(all, func(a, b *Ticket) int { return int(a.ID - b.ID) })
	size := 1000
	if n, err := strconv.Atoi(q.Get("page[size]")); err == nil && n > 0 && n < size {
		size = n
	}
	from := 0
	if c := q.Get("page[after]"); c != "" {
		b, _ := base64.RawURLEncoding.DecodeString(c)
		n, err := strconv.Atoi(strings.TrimPrefix(string(b), "at:"))
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidPaginationParameter", "description": "page[after] is invalid"})
			return
		}
		from = min(n, len(all))
	}
	to := min(from+size, len(all))
	results := make([]map[string]any, 0, to-from)
	for _, t := range all[from:to] {
		m := s.ticketJSON(r, t)
		m["result_type"] = "ticket"
		results = append(results, m)
	}
	after := base64.RawURLEncoding.EncodeToString([]byte("at:" + strconv.Itoa(to)))
	more := to < len(all)
	var next any
	if more {
		nq := url.Values{"query": {q.Get("query")}, "filter[type]": {"ticket"}, "page[size]": {strconv.Itoa(size)}, "page[after]": {after}}
		next = base(r) + SearchExportPath + "?" + nq.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results, "facets": nil,
		"meta":  map[string]any{"has_more": more, "after_cursor": after, "before_cursor": nil},
		"links": map[string]any{"next": next, "prev": nil}})
}

func (s *Server) ticketJSON(r *http.Request, t *Ticket) map[string]any {
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	cf := t.CustomFields
	if cf == nil {
		cf = []CustomField{}
	}
	var org any
	if t.OrganizationID != 0 {
		org = t.OrganizationID
	}
	return map[string]any{
		"id":                  t.ID,
		"url":                 fmt.Sprintf("%s/api/v2/tickets/%d.json", base(r), t.ID),
		"created_at":          t.CreatedAt.UTC().Format(time.RFC3339),
		"updated_at":          t.UpdatedAt.UTC().Format(time.RFC3339),
		"generated_timestamp": t.UpdatedAt.Unix(),
		"subject":             t.Subject,
		"status":              t.Status,
		"priority":            nullable(t.Priority),
		"type":                nullable(t.Type),
		"tags":                tags,
		"organization_id":     org,
		"requester_id":        t.RequesterID,
		"submitter_id":        t.SubmitterID,
		"custom_fields":       cf,
	}
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
