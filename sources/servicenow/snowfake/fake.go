// Package snowfake is an in-memory ServiceNow Table API for tests:
// GET /api/now/table/{table} over incident, sys_audit and
// sys_journal_field, with the subset of encoded queries the source uses
// (=, !=, >=, >, <=, <, IN, NOT IN, ISEMPTY, ISNOTEMPTY, ^, ^OR, ORDERBY,
// ORDERBYDESC), sysparm_fields, sysparm_limit and sysparm_offset paging
// with a Link header and X-Total-Count, basic or bearer authentication
// with ServiceNow's 401 body, and faults a test can inject (429 with
// Retry-After, 5xx, malformed JSON). Dot-walked fields such as
// caller_id.user_name are stored on the record under that name. The data
// set can be changed between polls; every request is counted by path.
// The write endpoint is the record update of a journal field (notes.go).
package snowfake

import (
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

// TablePath is the Table API path of a table.
func TablePath(table string) string { return "/api/now/table/" + table }

// Date is ServiceNow's date-time format (UTC with sysparm_display_value=false).
const Date = "2006-01-02 15:04:05"

// Incident is an incident as a test creates it.
type Incident struct {
	SysID, Number string
	Opened        time.Time
	State         string // "1" when empty
	HoldReason    string
	Priority      string // "4" when empty
	Company       string // company.name; company holds a made-up sys_id
	CallerUser    string // caller_id.user_name
	ResolvedAt    time.Time
	Extra         map[string]string // other fields (u_tier, …)
}

// Fault is an answer injected instead of the real one.
type Fault = fakeapi.Fault

// Server is the fake. Call New.
type Server struct {
	// User and Password are the accepted basic credentials; Token the
	// accepted bearer token.
	User, Password, Token string
	// MaxLimit caps sysparm_limit (ServiceNow's default page is 10000).
	MaxLimit int

	mu               sync.Mutex
	seq              int
	tables           map[string][]map[string]string
	fakeapi.Recorder                       // Inject, Requests, ResetCounts
	index            map[string]tableIndex // by table; see candidates
	// Queries records the sysparm_query of every request, by path.
	queries map[string][]string
	// notes are the journal entries written by updates (notes.go).
	notes     []Note
	denyNotes bool
}

// New makes an empty fake accepting the given basic credentials.
func New(user, password string) *Server {
	return &Server{User: user, Password: password, MaxLimit: 10000,
		tables: map[string][]map[string]string{}, queries: map[string][]string{}}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(Date)
}

func (s *Server) newID() string { s.seq++; return fmt.Sprintf("%032x", s.seq) }

func (s *Server) incident(id string) map[string]string {
	for _, r := range s.tables["incident"] {
		if r["sys_id"] == id {
			return r
		}
	}
	panic("snowfake: no incident " + id)
}

// AddIncident creates an incident as of in.Opened, with the audit rows of
// its initial state and priority.
func (s *Server) AddIncident(in Incident) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.State == "" {
		in.State = "1"
	}
	if in.Priority == "" {
		in.Priority = "4"
	}
	r := map[string]string{"sys_id": in.SysID, "number": in.Number, "opened_at": fmtTime(in.Opened),
		"sys_created_on": fmtTime(in.Opened), "sys_updated_on": fmtTime(in.Opened), "sys_mod_count": "0", "state": in.State,
		"hold_reason": in.HoldReason, "priority": in.Priority, "resolved_at": fmtTime(in.ResolvedAt),
		"active":              strconv.FormatBool(in.State != "6" && in.State != "7" && in.State != "8"),
		"caller_id.user_name": in.CallerUser, "company.name": in.Company}
	if in.Company != "" {
		r["company"] = fmt.Sprintf("c%031x", len(in.Company))
	} else {
		r["company"] = ""
	}
	for k, v := range in.Extra {
		r[k] = v
	}
	s.tables["incident"] = append(s.tables["incident"], r)
	for _, f := range []string{"state", "priority"} {
		s.audit(in.SysID, in.Opened, in.CallerUser, f, "", r[f])
	}
}

func (s *Server) audit(id string, at time.Time, user, field, old, val string) {
	s.tables["sys_audit"] = append(s.tables["sys_audit"], map[string]string{"sys_id": s.newID(),
		"tablename": "incident", "documentkey": id, "fieldname": field, "oldvalue": old, "newvalue": val,
		"sys_created_on": fmtTime(at), "sys_created_by": user})
}

// Change sets an incident's field (state, hold_reason, priority, or any
// other) at instant at, by user, with a sys_audit row, and touches it.
// Setting state 6 sets resolved_at, and a state below 6 clears it.
func (s *Server) Change(id string, at time.Time, user, field, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.incident(id)
	s.audit(id, at, user, field, r[field], value)
	r[field] = value
	if field == "state" {
		switch value {
		case "6":
			r["resolved_at"] = fmtTime(at)
		case "1", "2", "3":
			r["resolved_at"] = ""
		}
		r["active"] = strconv.FormatBool(value != "6" && value != "7" && value != "8")
	}
	touch(r, at)
}

// touch records an update of r at instant at, as ServiceNow does: its
// sys_updated_on (to the second) and its update count.
func touch(r map[string]string, at time.Time) {
	r["sys_updated_on"] = fmtTime(at)
	n, _ := strconv.Atoi(r["sys_mod_count"])
	r["sys_mod_count"] = strconv.Itoa(n + 1)
}

// Journal adds a comments or work_notes entry at instant at by user, and
// touches the incident.
func (s *Server) Journal(id string, at time.Time, user, element string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables["sys_journal_field"] = append(s.tables["sys_journal_field"], map[string]string{"sys_id": s.newID(),
		"name": "incident", "element": element, "element_id": id, "value": "Reply",
		"sys_created_on": fmtTime(at), "sys_created_by": user})
	touch(s.incident(id), at)
}

// Queries returns the sysparm_query of each request to path so far.
func (s *Server) Queries(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries[path])
}

// ResetCounts sets every request counter back to zero, and forgets the
// queries.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Recorder.ResetCounts()
	s.queries = map[string][]string{}
}

func (s *Server) authorized(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); s.Token != "" && h == "Bearer "+s.Token {
		return true
	}
	u, p, ok := r.BasicAuth()
	return ok && s.Password != "" && u == s.User && p == s.Password
}

func failure(w http.ResponseWriter, code int, msg, detail string) {
	writeJSON(w, code, map[string]any{"error": map[string]string{"message": msg, "detail": detail}, "status": "failure"})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Recorder.Count(r.URL.Path)
	s.queries[r.URL.Path] = append(s.queries[r.URL.Path], r.URL.Query().Get("sysparm_query"))
	if !s.authorized(r) {
		failure(w, http.StatusUnauthorized, "User Not Authenticated", "Required to provide Auth information")
		return
	}
	if f, ok := s.Recorder.Take(r.URL.Path); ok {
		switch {
		case f.Malformed:
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			_, _ = w.Write([]byte(`{"result":[{"sys_id":`))
		case f.Code == http.StatusTooManyRequests:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			failure(w, f.Code, "Rate limit exceeded", "Too many requests")
		default:
			failure(w, f.Code, "Internal server error", "Something went wrong")
		}
		return
	}
	if s.serveNote(w, r) {
		return
	}
	table, ok := strings.CutPrefix(r.URL.Path, "/api/now/table/")
	rows, known := s.tables[table]
	if !ok || (!known && table != "incident" && table != "sys_audit" && table != "sys_journal_field") {
		failure(w, http.StatusBadRequest, "Invalid table "+table, "")
		return
	}
	if r.Method != http.MethodGet {
		failure(w, http.StatusMethodNotAllowed, "Method not Supported", "")
		return
	}
	q := r.URL.Query()
	if q.Get("sysparm_display_value") == "true" || q.Get("sysparm_display_value") == "all" {
		failure(w, http.StatusBadRequest, "the fake only answers sysparm_display_value=false", "")
		return
	}
	match, order, err := parseQuery(q.Get("sysparm_query"))
	if err != nil {
		failure(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	var all []map[string]string
	for _, row := range s.candidates(table, rows, q.Get("sysparm_query")) {
		if match(row) {
			all = append(all, row)
		}
	}
	slices.SortStableFunc(all, order)
	limit := s.MaxLimit
	if n, err := strconv.Atoi(q.Get("sysparm_limit")); err == nil && n > 0 && n < limit {
		limit = n
	}
	offset := 0
	if n, err := strconv.Atoi(q.Get("sysparm_offset")); err == nil && n > 0 {
		offset = min(n, len(all))
	}
	page := all[offset:min(offset+limit, len(all))]
	var fields []string
	if f := q.Get("sysparm_fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	out := make([]map[string]string, len(page))
	for i, row := range page {
		if fields == nil {
			out[i] = row
			continue
		}
		m := map[string]string{}
		for _, f := range fields {
			if v, ok := row[f]; ok {
				m[f] = v
			} else if strings.Contains(f, ".") || table == "incident" {
				m[f] = ""
			}
		}
		out[i] = m
	}
	link := func(rel string, off int) string {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("sysparm_offset", strconv.Itoa(off))
		nq.Set("sysparm_limit", strconv.Itoa(limit))
		return fmt.Sprintf("<%s%s?%s>;rel=%q", base(r), r.URL.Path, nq.Encode(), rel)
	}
	links := []string{link("first", 0)}
	if offset > 0 {
		links = append(links, link("prev", max(offset-limit, 0)))
	}
	if offset+limit < len(all) {
		links = append(links, link("next", offset+limit))
	}
	links = append(links, link("last", max((len(all)-1)/limit*limit, 0)))
	w.Header().Set("Link", strings.Join(links, ","))
	w.Header().Set("X-Total-Count", strconv.Itoa(len(all)))
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
}

// parseQuery compiles an encoded query: conditions joined by ^ (and) and
// ^OR (or, binding the condition to the one before), then ORDERBY terms.
func parseQuery(query string) (func(map[string]string) bool, func(a, b map[string]string) int, error) {
	var groups [][]func(map[string]string) bool
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	if query != "" {
		for _, term := range strings.Split(query, "^") {
			switch {
			case strings.HasPrefix(term, "ORDERBYDESC"):
				keys = append(keys, key{strings.TrimPrefix(term, "ORDERBYDESC"), true})
			case strings.HasPrefix(term, "ORDERBY"):
				keys = append(keys, key{strings.TrimPrefix(term, "ORDERBY"), false})
			case term == "NQ" || strings.HasPrefix(term, "NQ"):
				return nil, nil, fmt.Errorf("the fake does not know ^NQ")
			case strings.HasPrefix(term, "OR"):
				c, err := cond(strings.TrimPrefix(term, "OR"))
				if err != nil {
					return nil, nil, err
				}
				if len(groups) == 0 {
					return nil, nil, fmt.Errorf("^OR without a condition before it")
				}
				groups[len(groups)-1] = append(groups[len(groups)-1], c)
			default:
				c, err := cond(term)
				if err != nil {
					return nil, nil, err
				}
				groups = append(groups, []func(map[string]string) bool{c})
			}
		}
	}
	match := func(r map[string]string) bool {
		for _, g := range groups {
			if !slices.ContainsFunc(g, func(c func(map[string]string) bool) bool { return c(r) }) {
				return false
			}
		}
		return true
	}
	order := func(a, b map[string]string) int {
		for _, k := range keys {
			c := strings.Compare(a[k.field], b[k.field])
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	return match, order, nil
}

func cond(term string) (func(map[string]string) bool, error) {
	i := strings.IndexFunc(term, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.')
	})
	if i <= 0 {
		return nil, fmt.Errorf("cannot read the condition %q", term)
	}
	f, rest := term[:i], term[i:]
	for _, op := range []string{"ISNOTEMPTY", "ISEMPTY", "NOT IN", "!=", ">=", "<=", ">", "<", "IN", "="} {
		v, ok := strings.CutPrefix(rest, op)
		if !ok {
			continue
		}
		return func(r map[string]string) bool {
			x := r[f]
			switch op {
			case "ISNOTEMPTY":
				return x != ""
			case "ISEMPTY":
				return x == ""
			case "!=":
				return x != v
			case ">=":
				return x != "" && x >= v
			case "<=":
				return x != "" && x <= v
			case ">":
				return x != "" && x > v
			case "<":
				return x != "" && x < v
			case "IN":
				return slices.Contains(strings.Split(v, ","), x)
			case "NOT IN":
				return !slices.Contains(strings.Split(v, ","), x)
			default:
				return x == v
			}
		}, nil
	}
	return nil, fmt.Errorf("unknown operator in %q", term)
}

func base(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// keyFields are the fields whose equality narrows a query through the
// index: the history reads ask for one record's rows, and scanning every
// row of a table of 100,000 records for each would make the request
// benchmark quadratic.
var keyFields = []string{"documentkey", "element_id"}

// candidates are the rows a query can match: those of its key field's
// value when one of its AND terms is `documentkey=` or `element_id=`,
// else all of them. The index is rebuilt when the table has grown.
func (s *Server) candidates(table string, rows []map[string]string, query string) []map[string]string {
	terms := strings.Split(query, "^")
	for i, term := range terms {
		if i+1 < len(terms) && strings.HasPrefix(terms[i+1], "OR") {
			continue // an alternative follows: the term does not narrow
		}
		for _, f := range keyFields {
			v, ok := strings.CutPrefix(term, f+"=")
			if !ok {
				continue
			}
			if s.index == nil {
				s.index = map[string]tableIndex{}
			}
			ix := s.index[table]
			if ix.rows != len(rows) {
				ix = tableIndex{rows: len(rows), by: map[[2]string][]map[string]string{}}
				for _, r := range rows {
					for _, kf := range keyFields {
						if kv, ok := r[kf]; ok {
							ix.by[[2]string{kf, kv}] = append(ix.by[[2]string{kf, kv}], r)
						}
					}
				}
				s.index[table] = ix
			}
			return ix.by[[2]string{f, v}]
		}
	}
	return rows
}

// tableIndex is a table's rows by key field and value, for len rows.
type tableIndex struct {
	rows int
	by   map[[2]string][]map[string]string
}
