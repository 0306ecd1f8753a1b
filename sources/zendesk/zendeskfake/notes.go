package zendeskfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// TicketPath is a ticket's own path: PUT updates it, a comment included.
func TicketPath(id int64) string { return fmt.Sprintf("/api/v2/tickets/%d.json", id) }

// Note is a comment added through a ticket update.
type Note struct {
	Ticket int64
	Body   string
	Public bool // false: a private comment (an internal note)
}

// Notes are the comments added to ticket id through the API so far.
func (s *Server) Notes(id int64) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(s.notes), func(n Note) bool { return n.Ticket != id })
}

// DenyNotes makes ticket updates answer 403, as Zendesk does for a user
// who may not edit the ticket (an end user, or an agent outside its group).
func (s *Server) DenyNotes(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyNotes = deny
}

// serveNote answers PUT /api/v2/tickets/{id}.json with
// {"ticket": {"comment": {"body": "…", "public": false}}}, the only way the
// Tickets API adds a comment (the Ticket Comments API creates none); it
// reports whether r was that request. A missing or deleted ticket is 404
// RecordNotFound, a closed one 422 (closed tickets cannot be updated).
// Called with s.mu held, after the authentication and injected faults.
func (s *Server) serveNote(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v2/tickets/")
	if !ok || r.Method != http.MethodPut {
		return false
	}
	num, ok := strings.CutSuffix(rest, ".json")
	if !ok {
		return false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	t := s.tickets[id]
	if err != nil || t == nil || t.Status == "deleted" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "RecordNotFound", "description": "Not found"})
		return true
	}
	if s.denyNotes {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "Forbidden",
			"description": "You do not have access to this page. Please contact the account owner of this help desk for further help."})
		return true
	}
	if t.Status == "closed" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "RecordInvalid", "description": "Record validation errors",
			"details": map[string]any{"status": []any{map[string]string{"description": "Status: closed prevents ticket update"}}}})
		return true
	}
	var in struct {
		Ticket *struct {
			Comment *struct {
				Body   string `json:"body"`
				Public *bool  `json:"public"`
			} `json:"comment"`
		} `json:"ticket"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Ticket == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Unprocessable Entity", "description": "Invalid JSON or missing ticket"})
		return true
	}
	c := in.Ticket.Comment
	if c == nil || strings.TrimSpace(c.Body) == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "RecordInvalid", "description": "Record validation errors",
			"details": map[string]any{"base": []any{map[string]string{"description": "Comment: cannot be blank"}}}})
		return true
	}
	public := c.Public == nil || *c.Public // a comment is public unless told otherwise
	s.notes = append(s.notes, Note{Ticket: id, Body: c.Body, Public: public})
	writeJSON(w, http.StatusOK, map[string]any{
		"ticket": s.ticketJSON(r, t),
		"audit": map[string]any{"id": s.id(), "ticket_id": id, "events": []Event{
			{ID: s.id(), Type: "Comment", Public: &public, Body: c.Body},
		}},
	})
	return true
}
