package jirafake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// RequestCommentPath is the path of Jira Service Management's request
// comments (Cloud and Data Center alike): POST adds a comment, public or
// internal.
func RequestCommentPath(issueIDOrKey string) string {
	return "/rest/servicedeskapi/request/" + issueIDOrKey + "/comment"
}

// Note is a comment written through the request comments endpoint.
type Note struct {
	Issue  string // the issue's key
	Body   string
	Public bool // false: an internal comment
}

// Notes are the comments written on the issue of key (or id) so far.
func (s *Server) Notes(key string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.find(key)
	if is == nil {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(s.notes), func(n Note) bool { return n.Issue != is.Key })
}

// DenyNotes makes the endpoint refuse comments with 403, as Jira does for
// an API user who is not an agent of the service project.
func (s *Server) DenyNotes(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyNotes = deny
}

// sdError is the servicedeskapi's error body (ErrorResponse:
// errorMessage, i18nErrorMessage), unlike the platform API's
// errorMessages.
func sdError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"errorMessage": msg})
}

// serveNote answers POST /rest/servicedeskapi/request/{issueIdOrKey}/comment
// with {"body": "…", "public": false}; it reports whether r was that
// request. Like Jira it adds the comment to the issue (jsdPublic false for
// an internal one) and answers 201 with the comment. Called with s.mu held,
// after the authentication and the injected faults.
func (s *Server) serveNote(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/rest/servicedeskapi/request/")
	if !ok || r.Method != http.MethodPost {
		return false
	}
	key, ok := strings.CutSuffix(rest, "/comment")
	if !ok || key == "" || strings.Contains(key, "/") {
		return false
	}
	is := s.find(key)
	if is == nil {
		sdError(w, http.StatusNotFound, "Request does not exist or you do not have permission to see it.")
		return true
	}
	if s.denyNotes {
		sdError(w, http.StatusForbidden, "You do not have permission to add comments to this request.")
		return true
	}
	var in struct {
		Body   *string `json:"body"`
		Public *bool   `json:"public"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		sdError(w, http.StatusBadRequest, "The comment body must not be empty.")
		return true
	}
	public := in.Public == nil || *in.Public // public unless told otherwise
	s.notes = append(s.notes, Note{Issue: is.Key, Body: *in.Body, Public: public})
	clear(s.matched)
	now := s.now()
	id := strconv.Itoa(20000 + len(s.notes))
	is.Comments = append(is.Comments, Comment{ID: id, Author: "api-user", Created: now, Body: *in.Body, Public: &public})
	is.Updated = now
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": id, "body": *in.Body, "public": public,
		"author":  map[string]any{"accountId": "api-user", "displayName": "API user"},
		"created": map[string]any{"iso8601": now.Format(TimeLayout), "epochMillis": now.UnixMilli()},
		"_links":  map[string]any{"self": s.BaseURL + "/rest/servicedeskapi/request/" + is.ID + "/comment/" + id},
	})
	return true
}
