package freshdeskfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NotesPath is the path that adds a note to ticket id.
func NotesPath(id int64) string { return fmt.Sprintf("/api/v2/tickets/%d/notes", id) }

// Note is a note written through the API.
type Note struct {
	Ticket  int64
	Body    string // HTML
	Private bool
}

// Notes are the notes written on ticket id through the API so far.
func (s *Server) Notes(id int64) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(s.notes), func(n Note) bool { return n.Ticket != id })
}

// DenyNotes makes the notes endpoint answer 403, as Freshdesk does for an
// agent whose ticket scope leaves the ticket out.
func (s *Server) DenyNotes(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyNotes = deny
}

// DeleteTicket removes a ticket: the API answers 404 for it since.
func (s *Server) DeleteTicket(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tickets, id)
}

// serveNote answers POST /api/v2/tickets/{id}/notes with {"body": "…",
// "private": true} (Freshdesk API v2, "Add Note to a ticket"; private is
// true when left out, and body, HTML, is required); it reports whether r
// was that request. The note joins the ticket's conversations and
// touches it; the answer is 201 with the note. Called with s.mu held,
// after the authentication and injected faults.
func (s *Server) serveNote(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, TicketsPath+"/")
	if !ok || r.Method != http.MethodPost {
		return false
	}
	num, ok := strings.CutSuffix(rest, "/notes")
	if !ok {
		return false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	t := s.tickets[id]
	if err != nil || t == nil {
		w.WriteHeader(http.StatusNotFound)
		return true
	}
	if s.denyNotes {
		writeJSON(w, http.StatusForbidden, map[string]string{"code": "access_denied",
			"message": "You are not authorized to perform this action."})
		return true
	}
	var in struct {
		Body    *string `json:"body"`
		Private *bool   `json:"private"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"description": "Validation failed",
			"errors": []map[string]string{{"field": "", "message": "Request body has invalid json format", "code": "invalid_json"}}})
		return true
	}
	if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		validation(w, "body", "It should not be blank as this is a mandatory field")
		return true
	}
	private := in.Private == nil || *in.Private
	s.notes = append(s.notes, Note{Ticket: id, Body: *in.Body, Private: private})
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	s.nextID++
	c := conversation{ID: s.nextID, Body: *in.Body, BodyText: *in.Body, Private: private,
		UserID: 1, Source: 2, TicketID: id, CreatedAt: now, UpdatedAt: now}
	t.conversations = append(t.conversations, c)
	t.UpdatedAt = now
	writeJSON(w, http.StatusCreated, c)
	return true
}
