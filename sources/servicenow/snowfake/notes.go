package snowfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Note is a journal entry written through a record update.
type Note struct {
	SysID string
	// Element is the journal field written: work_notes (internal) or
	// comments (additional comments, which the caller sees).
	Element string
	Value   string
}

// Notes are the journal entries written on the record of sys_id through
// the API so far.
func (s *Server) Notes(sysID string) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(s.notes), func(n Note) bool { return n.SysID != sysID })
}

// DenyNotes makes updates answer 403, as ServiceNow does when an ACL keeps
// the API user from writing the record (no itil role on incident).
func (s *Server) DenyNotes(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyNotes = deny
}

// serveNote answers PATCH (or PUT) /api/now/table/{table}/{sys_id}, the
// Table API's record update, for the journal fields work_notes and
// comments; it reports whether r was that request. Fields the fake does
// not keep are ignored, as ServiceNow ignores fields a table lacks. A
// missing record is 404 "No Record found". Called with s.mu held, after
// the authentication and injected faults.
func (s *Server) serveNote(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/now/table/")
	if !ok || (r.Method != http.MethodPatch && r.Method != http.MethodPut) {
		return false
	}
	table, sysID, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	var rec map[string]string
	for _, row := range s.tables[table] {
		if row["sys_id"] == sysID {
			rec = row
		}
	}
	if rec == nil {
		failure(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
		return true
	}
	if s.denyNotes {
		failure(w, http.StatusForbidden, "Operation Failed", "ACL Exception Update Failed due to security constraints")
		return true
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		failure(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
		return true
	}
	for _, el := range []string{"work_notes", "comments"} {
		if v, ok := in[el].(string); ok && v != "" {
			s.notes = append(s.notes, Note{SysID: sysID, Element: el, Value: v})
		}
	}
	out := map[string]string{}
	for k, v := range rec {
		out[k] = v
	}
	// Journal fields read back empty, as the Table API answers them.
	out["work_notes"], out["comments"] = "", ""
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
	return true
}
