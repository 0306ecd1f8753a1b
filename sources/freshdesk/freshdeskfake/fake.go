// Package freshdeskfake is an in-memory Freshdesk API v2 for tests: the
// ticket list (GET /api/v2/tickets with updated_since, order_by,
// order_type, page, per_page and include=stats,requester,company; paging
// by a Link header, at most MaxPages pages) and a ticket's conversations
// (GET /api/v2/tickets/{id}/conversations, paged the same way), in the
// payload shapes of Freshdesk's documentation, with its API-key basic
// authentication (the key as user, any password) and its 401 body, and
// faults a test can inject (429 with Retry-After, 5xx, malformed JSON).
// The data set can be changed between polls; every request is counted by
// path. The write endpoint is the ticket's notes (notes.go).
package freshdeskfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
)

// TicketsPath is the ticket list.
const TicketsPath = "/api/v2/tickets"

// ConversationsPath is the path of a ticket's conversations.
func ConversationsPath(id int64) string { return fmt.Sprintf("/api/v2/tickets/%d/conversations", id) }

// The built-in ticket statuses.
const (
	Open     = 2
	Pending  = 3
	Resolved = 4
	Closed   = 5
)

// The priorities.
const (
	Low    = 1
	Medium = 2
	High   = 3
	Urgent = 4
)

// Ticket is a ticket of the fake. Stats are kept by SetStatus and Reply.
type Ticket struct {
	ID           int64
	Subject      string
	CreatedAt    time.Time
	UpdatedAt    time.Time // CreatedAt when zero
	Status       int       // Open when 0
	Priority     int       // Low when 0
	Type         string
	Tags         []string
	CompanyID    int64 // 0: none
	RequesterID  int64
	CustomFields map[string]any

	FirstRespondedAt, ResolvedAt, ClosedAt, StatusUpdatedAt, PendingSince, ReopenedAt time.Time

	conversations []conversation
}

type conversation struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	BodyText  string    `json:"body_text"`
	Incoming  bool      `json:"incoming"`
	Private   bool      `json:"private"`
	UserID    int64     `json:"user_id"`
	Source    int       `json:"source"`
	TicketID  int64     `json:"ticket_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Fault is an answer injected instead of the real one.
type Fault = fakeapi.Fault

// Server is the fake. Its zero value is not usable: call New.
type Server struct {
	// APIKey is the accepted API key (the basic-auth user).
	APIKey string
	// MaxPerPage caps per_page (Freshdesk: 100); the default per_page is 30.
	MaxPerPage int
	// MaxPages is the last page the list answers (Freshdesk: 300).
	MaxPages int
	// Now is the fake's clock: without updated_since the list holds the
	// tickets created in the last 30 days only.
	Now func() time.Time

	mu               sync.Mutex
	nextID           int64
	tickets          map[int64]*Ticket
	companies        map[int64]string
	fakeapi.Recorder // Inject, Requests, ResetCounts
	// notes are the notes written through NotesPath (notes.go).
	notes     []Note
	denyNotes bool
}

// New makes an empty fake accepting apiKey.
func New(apiKey string) *Server {
	return &Server{APIKey: apiKey, MaxPerPage: 100, MaxPages: 300, Now: time.Now, nextID: 5000,
		tickets: map[int64]*Ticket{}, companies: map[int64]string{}}
}

// AddCompany adds or renames a company.
func (s *Server) AddCompany(id int64, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.companies[id] = name
}

// AddTicket adds a ticket as given (its stats too).
func (s *Server) AddTicket(t Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Status == 0 {
		t.Status = Open
	}
	if t.Priority == 0 {
		t.Priority = Low
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	if t.StatusUpdatedAt.IsZero() {
		t.StatusUpdatedAt = t.CreatedAt
	}
	s.tickets[t.ID] = &t
}

// SetStatus changes a ticket's status at instant at and keeps its stats
// as Freshdesk does.
func (s *Server) SetStatus(id int64, at time.Time, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	was := t.Status
	t.Status, t.StatusUpdatedAt, t.UpdatedAt = status, at, at
	switch status {
	case Pending:
		t.PendingSince = at
	case Resolved:
		t.ResolvedAt = at
	case Closed:
		if t.ResolvedAt.IsZero() || was != Resolved {
			t.ResolvedAt = at
		}
		t.ClosedAt = at
	default:
		if was == Resolved || was == Closed {
			t.ReopenedAt = at
		}
	}
	if status != Pending {
		t.PendingSince = time.Time{}
	}
}

// SetPriority changes a ticket's priority at instant at.
func (s *Server) SetPriority(id int64, at time.Time, priority int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	t.Priority, t.UpdatedAt = priority, at
}

// Reply adds a conversation at instant at by user. A public outgoing one
// (an agent's reply) sets first_responded_at, unless stats is false (as
// for tickets imported from elsewhere, whose stats lack it).
func (s *Server) Reply(id int64, at time.Time, user int64, private, incoming, stats bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	s.nextID++
	t.conversations = append(t.conversations, conversation{ID: s.nextID, Body: "<div>Reply</div>", BodyText: "Reply",
		Incoming: incoming, Private: private, UserID: user, Source: 0, TicketID: id, CreatedAt: at, UpdatedAt: at})
	t.UpdatedAt = at
	if stats && !private && !incoming && t.FirstRespondedAt.IsZero() {
		t.FirstRespondedAt = at
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Recorder.Count(r.URL.Path)
	if u, _, ok := r.BasicAuth(); !ok || s.APIKey == "" || u != s.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "invalid_credentials",
			"message": "You have to be logged in to perform this action."})
		return
	}
	if f, ok := s.Recorder.Take(r.URL.Path); ok {
		switch {
		case f.Malformed:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`[{"id":1,`))
		case f.Code == http.StatusTooManyRequests:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			writeJSON(w, f.Code, map[string]string{"message": "You have exceeded the limit of requests per minute"})
		default:
			writeJSON(w, f.Code, map[string]string{"code": "internal_error", "message": "We're sorry, but something went wrong."})
		}
		return
	}
	if s.serveNote(w, r) {
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"code": "method_not_allowed", "message": "Method not allowed"})
		return
	}
	w.Header().Set("X-Ratelimit-Total", "700")
	w.Header().Set("X-Ratelimit-Remaining", "699")
	w.Header().Set("X-Ratelimit-Used-CurrentRequest", "1")
	switch p := r.URL.Path; {
	case p == TicketsPath:
		s.list(w, r)
	case strings.HasPrefix(p, "/api/v2/companies/"):
		id, err := strconv.ParseInt(strings.TrimPrefix(p, "/api/v2/companies/"), 10, 64)
		name, ok := s.companies[id]
		if err != nil || !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": name, "description": nil, "domains": []string{}})
	case strings.HasPrefix(p, TicketsPath+"/") && strings.HasSuffix(p, "/conversations"):
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p, TicketsPath+"/"), "/conversations"), 10, 64)
		t := s.tickets[id]
		if err != nil || t == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		page, size, ok := s.paging(w, r, 30)
		if !ok {
			return
		}
		from := min((page-1)*size, len(t.conversations))
		to := min(from+size, len(t.conversations))
		s.link(w, r, page, to < len(t.conversations))
		out := t.conversations[from:to]
		if out == nil {
			out = []conversation{}
		}
		writeJSON(w, http.StatusOK, out)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "invalid_url", "message": "Not found"})
	}
}

func validation(w http.ResponseWriter, field, message string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"description": "Validation failed",
		"errors": []map[string]string{{"field": field, "message": message, "code": "invalid_value"}}})
}

func (s *Server) paging(w http.ResponseWriter, r *http.Request, def int) (page, size int, ok bool) {
	q := r.URL.Query()
	page, size = 1, def
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			validation(w, "page", "It should be a Positive Number")
			return 0, 0, false
		}
		page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.MaxPerPage {
			validation(w, "per_page", fmt.Sprintf("It should be a Positive Number less than or equal to %d", s.MaxPerPage))
			return 0, 0, false
		}
		size = n
	}
	return page, size, true
}

// link sets the Link header to the next page when there is one.
func (s *Server) link(w http.ResponseWriter, r *http.Request, page int, more bool) {
	if !more {
		return
	}
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page+1))
	w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, base(r), r.URL.Path, q.Encode()))
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, size, ok := s.paging(w, r, 30)
	if !ok {
		return
	}
	if page > s.MaxPages {
		validation(w, "page", fmt.Sprintf("You cannot access tickets beyond the %dth page. Please provide a smaller page number.", s.MaxPages))
		return
	}
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			validation(w, "updated_since", "It should be in the 'valid date-time' format")
			return
		}
		since = t
	}
	if o := q.Get("order_by"); o != "" && o != "created_at" && o != "due_by" && o != "updated_at" && o != "status" {
		validation(w, "order_by", "It should be one of these values: 'created_at,due_by,updated_at,status'")
		return
	}
	var all []*Ticket
	for _, t := range s.tickets {
		if since.IsZero() && t.CreatedAt.Before(s.Now().AddDate(0, 0, -30)) {
			continue
		}
		if !t.UpdatedAt.Before(since) {
			all = append(all, t)
		}
	}
	key := func(t *Ticket) time.Time { return t.CreatedAt }
	if q.Get("order_by") == "updated_at" {
		key = func(t *Ticket) time.Time { return t.UpdatedAt }
	}
	desc := q.Get("order_type") != "asc"
	slices.SortFunc(all, func(a, b *Ticket) int {
		c := key(a).Compare(key(b))
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	from := min((page-1)*size, len(all))
	to := min(from+size, len(all))
	s.link(w, r, page, to < len(all) && page < s.MaxPages)
	include := map[string]bool{}
	for _, i := range strings.Split(q.Get("include"), ",") {
		if i != "" && i != "requester" && i != "stats" && i != "description" {
			// As Freshdesk answers: the list embeds only these.
			writeJSON(w, http.StatusBadRequest, map[string]any{"description": "Validation failed", "errors": []map[string]any{{
				"field": "include", "message": "It should be one/a combination of the following values: requester, stats, description", "code": "invalid_value"}}})
			return
		}
		include[i] = true
	}
	out := make([]map[string]any, 0, to-from)
	for _, t := range all[from:to] {
		out = append(out, s.ticketJSON(t, include))
	}
	writeJSON(w, http.StatusOK, out)
}

func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) ticketJSON(t *Ticket, include map[string]bool) map[string]any {
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	cf := t.CustomFields
	if cf == nil {
		cf = map[string]any{}
	}
	var company any
	if t.CompanyID != 0 {
		company = t.CompanyID
	}
	var typ any
	if t.Type != "" {
		typ = t.Type
	}
	m := map[string]any{
		"id": t.ID, "subject": t.Subject, "status": t.Status, "priority": t.Priority, "type": typ,
		"tags": tags, "company_id": company, "requester_id": t.RequesterID, "custom_fields": cf,
		"created_at": stamp(t.CreatedAt), "updated_at": stamp(t.UpdatedAt), "source": 2,
	}
	if include["stats"] {
		m["stats"] = map[string]any{"agent_responded_at": stamp(t.FirstRespondedAt), "requester_responded_at": nil,
			"first_responded_at": stamp(t.FirstRespondedAt), "status_updated_at": stamp(t.StatusUpdatedAt),
			"reopened_at": stamp(t.ReopenedAt), "resolved_at": stamp(t.ResolvedAt), "closed_at": stamp(t.ClosedAt),
			"pending_since": stamp(t.PendingSince)}
	}
	if include["requester"] {
		m["requester"] = map[string]any{"id": t.RequesterID, "name": "Requester", "email": fmt.Sprintf("user%d@example.com", t.RequesterID)}
	}
	if include["company"] {
		if name, ok := s.companies[t.CompanyID]; ok {
			m["company"] = map[string]any{"id": t.CompanyID, "name": name}
		} else {
			m["company"] = map[string]any{}
		}
	}
	return m
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
