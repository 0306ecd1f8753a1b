package jsonapi

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

const (
	what    = "the list endpoint's address"
	example = "https://tickets.example.com/api/tickets?state=all"
)

// paging is how the list's pages are reached.
type paging struct {
	style     string // page, offset, cursor, link or none
	param     string // the page number, offset or cursor parameter
	sizeParam string // the page size parameter; "" none
	size      int    // the page size asked for; 0 unknown
	start     int    // the first page's number (page style)
	next      path   // where the next cursor is in the body (cursor style)
}

// since is the incremental filter: the parameter that lists what changed
// since an instant, and how the instant is written.
type since struct {
	param  string
	format timeFormat
}

// listPath finds a list of values in an item: path to the list and, for a
// list of objects, value inside each.
type listPath struct {
	path, value path
}

// historyPath finds a history in an item: path to the list of entries, at
// and value inside each entry.
type historyPath struct {
	path, at, value path
}

// fieldPaths say where each case field is in an item; nil is absent.
type fieldPaths struct {
	id, key, url, created, updated, status, severity, customer, tier, timezone, typ, firstResponse, resolved path
	labels                                                                                                   *listPath
	statusHistory, severityHistory                                                                           *historyPath
}

// marker is the value that marks a deleted item.
type marker struct {
	path  path
	value string // the value as JSON text: true, 1, "deleted" without quotes
}

// decode reads the mapping n into s; every problem goes to d.
func (s *source) decode(d *strictyaml.Decoder, n *yaml.Node, path string, dir string) {
	var (
		tok, user, pass   string
		hdr               *rest.Header
		timeFmt, sinceFmt = "rfc3339", ""
		timeFmtNode       *yaml.Node
		sinceNode         *yaml.Node
		tzName            = "UTC"
		pagingGiven       bool
	)
	ep := rest.Endpoint{Overlap: s.overlap}
	own := map[string]func(*yaml.Node, string){
		"username": func(v *yaml.Node, p string) {
			if d.String(v, p, &user) && user == "" {
				d.Errorf(v, p, "must not be empty")
			}
		},
		"header": func(v *yaml.Node, p string) { hdr = decodeHeader(d, v, p, dir) },
		"paging": func(v *yaml.Node, p string) { pagingGiven = true; s.decodePaging(d, v, p) },
		"updated_since": func(v *yaml.Node, p string) {
			sinceNode = v
			s.since = &since{}
			d.Fields(v, p, map[string]func(*yaml.Node, string){
				"param":  func(v *yaml.Node, p string) { nonEmpty(d, v, p, &s.since.param) },
				"format": func(v *yaml.Node, p string) { sinceNode = v; d.String(v, p, &sinceFmt) },
			})
			if s.since.param == "" {
				d.Errorf(v, strictyaml.Join(p, "param"), "missing: the query parameter that lists what changed since an instant, such as updated_since")
			}
		},
		"items": func(v *yaml.Node, p string) { s.items = decodePath(d, v, p, true) },
		"fields": func(v *yaml.Node, p string) {
			s.fieldsNode = v
			s.decodeFields(d, v, p)
		},
		"time_format": func(v *yaml.Node, p string) { timeFmtNode = v; d.String(v, p, &timeFmt) },
		"timezone": func(v *yaml.Node, p string) {
			if !d.String(v, p, &tzName) {
				return
			}
			if err := sla.CheckTimezone(tzName); err != nil {
				d.Errorf(v, p, "unknown time zone %q: want an IANA name such as Europe/Paris", tzName)
				tzName = "UTC"
			}
		},
		"status_map": func(v *yaml.Node, p string) {
			s.statusMap = map[string]sla.Status{}
			decodeMap(d, v, p, s.statusMap, func(val *yaml.Node, kp string) (sla.Status, bool) {
				return decodeStatus(d, val, kp)
			})
		},
		"default_status": func(v *yaml.Node, p string) {
			if st, ok := decodeStatus(d, v, p); ok {
				s.defaultStatus = &st
			}
		},
		"severity_map": func(v *yaml.Node, p string) {
			s.severityMap = map[string]int{}
			decodeMap(d, v, p, s.severityMap, func(val *yaml.Node, kp string) (int, bool) {
				var sev int
				if !d.Int(val, kp, &sev) {
					return 0, false
				}
				if sev < 0 || sev > 4 {
					d.Errorf(val, kp, "severity %d is not between 1 and 4 (or 0: unknown, the policy's default)", sev)
					return 0, false
				}
				return sev, true
			})
		},
		"tier_map": func(v *yaml.Node, p string) {
			s.tierMap = map[string]string{}
			decodeMap(d, v, p, s.tierMap, func(val *yaml.Node, kp string) (string, bool) {
				var t string
				return t, nonEmpty(d, val, kp, &t)
			})
		},
		"deleted": func(v *yaml.Node, p string) {
			s.deleted = &marker{value: "true"}
			d.Fields(v, p, map[string]func(*yaml.Node, string){
				"path":  func(v *yaml.Node, p string) { s.deleted.path = decodePath(d, v, p, false) },
				"value": func(v *yaml.Node, p string) { d.String(v, p, &s.deleted.value) },
			})
			if s.deleted.path == nil {
				d.Errorf(v, strictyaml.Join(p, "path"), "missing: where an item says it is deleted, such as deleted")
			}
		},
	}
	for _, secret := range []struct {
		name string
		dst  *string
	}{{"token", &tok}, {"password", &pass}} {
		maps.Copy(own, d.SecretFields(secret.name, dir, secret.dst))
	}
	maps.Copy(own, ep.Fields(d, what, example))
	sources.Fields(d, n, path, own)
	ep.Require(d, n, path, what, example)
	s.overlap, s.opts.RequestsPerMinute = ep.Overlap, ep.RequestsPerMinute
	if ep.URL != "" {
		s.url, _ = url.Parse(ep.URL) // checked by ep
	}

	// The pieces that depend on one another.
	loc, _ := time.LoadLocation(tzName)
	if f, err := parseTimeFormat(timeFmt, loc); err != nil {
		d.Errorf(timeFmtNode, strictyaml.Join(path, "time_format"), "%v", err)
	} else {
		s.timeF = f
	}
	if s.since != nil {
		if sinceFmt == "" {
			sinceFmt = "rfc3339"
		}
		if f, err := parseTimeFormat(sinceFmt, loc); err != nil {
			d.Errorf(sinceNode, strictyaml.Join(path, "updated_since.format"), "%v", err)
		} else {
			s.since.format = f
		}
		if s.fields.updated == nil && s.fieldsNode != nil {
			d.Errorf(s.fieldsNode, strictyaml.Join(path, "fields.updated"), "missing: updated_since needs each item's update time, which carries the sync on")
		}
	}
	if !pagingGiven {
		d.Errorf(n, strictyaml.Join(path, "paging"), "missing: how the list is paged: {style: page}, {style: offset}, {style: cursor, next: PATH}, {style: link} or none")
	}
	if s.fieldsNode == nil {
		d.Errorf(n, strictyaml.Join(path, "fields"), "missing: where each case field is in an item (id, created and status at least)")
	}

	auths := 0
	if tok != "" {
		auths++
		s.opts.Auth = rest.Bearer{Token: tok}
	}
	if user != "" || pass != "" {
		auths++
		if user == "" || pass == "" {
			d.Errorf(n, path, "basic authentication needs both username and password (or password_file)")
		}
		s.opts.Auth = rest.Basic{User: user, Password: pass}
	}
	if hdr != nil {
		auths++
		s.opts.Auth = *hdr
	}
	if auths > 1 {
		d.Errorf(n, path, "choose one authentication: token (bearer), username and password (basic), or header")
	}
}

func nonEmpty(d *strictyaml.Decoder, v *yaml.Node, p string, dst *string) bool {
	if !d.String(v, p, dst) {
		return false
	}
	if *dst == "" {
		d.Errorf(v, p, "must not be empty")
		return false
	}
	return true
}

// decodePath reads a path; empty is allowed only where it means "the body
// itself".
func decodePath(d *strictyaml.Decoder, v *yaml.Node, p string, emptyOK bool) path {
	var s string
	if !d.String(v, p, &s) {
		return nil
	}
	if s == "" && !emptyOK {
		d.Errorf(v, p, "must not be empty: a path such as status or assignee.name")
		return nil
	}
	pp, err := parsePath(s)
	if err != nil {
		d.Errorf(v, p, "%v", err)
		return nil
	}
	return pp
}

func decodeStatus(d *strictyaml.Decoder, v *yaml.Node, p string) (sla.Status, bool) {
	var s string
	if !d.String(v, p, &s) {
		return 0, false
	}
	st, err := sla.ParseStatus(s)
	if err != nil {
		d.Errorf(v, p, "%v", err)
		return 0, false
	}
	return st, true
}

// decodeMap reads a value map. Its keys are matched without regard to case
// (APIs write "High" and "HIGH" alike), so two keys that differ only in
// case are an error.
func decodeMap[T any](d *strictyaml.Decoder, v *yaml.Node, p string, dst map[string]T, val func(*yaml.Node, string) (T, bool)) {
	seen := map[string]string{}
	d.Map(v, p, func(key string, k, vn *yaml.Node) {
		kp := strictyaml.Join(p, key)
		folded := strings.ToLower(key)
		if other, ok := seen[folded]; ok {
			d.Errorf(k, kp, "the same value as %q: values are matched without regard to case", other)
			return
		}
		seen[folded] = key
		if x, ok := val(vn, kp); ok {
			dst[folded] = x
		}
	})
}

func decodeHeader(d *strictyaml.Decoder, v *yaml.Node, p, dir string) *rest.Header {
	h := &rest.Header{}
	own := map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, p string) {
			if !nonEmpty(d, v, p, &h.Name) {
				return
			}
			if strings.ContainsAny(h.Name, " :\t\r\n") || http.CanonicalHeaderKey(h.Name) == "" {
				d.Errorf(v, p, "%q is not a header name", h.Name)
			}
		},
	}
	maps.Copy(own, d.SecretFields("value", dir, &h.Value))
	d.Fields(v, p, own)
	if h.Name == "" || h.Value == "" {
		d.Errorf(v, p, "a header needs name and value (${ENV_VAR}) or value_file, such as {name: X-Api-Key, value: \"${API_KEY}\"}")
		return nil
	}
	return h
}

// pagingStyles are the styles and their default parameters.
var pagingStyles = map[string]paging{
	"page":   {style: "page", param: "page", start: 1},
	"offset": {style: "offset", param: "offset", sizeParam: "limit", size: 100},
	"cursor": {style: "cursor", param: "cursor"},
	"link":   {style: "link"},
	"none":   {style: "none"},
}

// decodePaging reads paging: a style name, or a mapping with style.
func (s *source) decodePaging(d *strictyaml.Decoder, v *yaml.Node, p string) bool {
	if v.Kind == yaml.ScalarNode {
		var st string
		if !d.String(v, p, &st) {
			return false
		}
		pg, ok := pagingStyles[st]
		if !ok {
			d.Errorf(v, p, "unknown style %q: want page, offset, cursor, link or none", st)
			return false
		}
		if st == "cursor" {
			d.Errorf(v, p, "the cursor style needs next, the path of the next cursor: {style: cursor, next: meta.next_cursor}")
			return false
		}
		s.paging = pg
		return true
	}
	var (
		style                  string
		param, sizeParam, next *yaml.Node
		size, start            *yaml.Node
	)
	keep := func(dst **yaml.Node) func(*yaml.Node, string) { return func(v *yaml.Node, _ string) { *dst = v } }
	d.Fields(v, p, map[string]func(*yaml.Node, string){
		"style":      func(v *yaml.Node, p string) { d.String(v, p, &style) },
		"param":      keep(&param),
		"size_param": keep(&sizeParam),
		"size":       keep(&size),
		"start":      keep(&start),
		"next":       keep(&next),
	})
	pg, ok := pagingStyles[style]
	if !ok {
		d.Errorf(v, strictyaml.Join(p, "style"), "unknown style %q: want page, offset, cursor, link or none", style)
		return false
	}
	refuse := func(n *yaml.Node, key, why string) {
		if n != nil {
			d.Errorf(n, strictyaml.Join(p, key), "not for the %s style: %s", style, why)
		}
	}
	switch style {
	case "none":
		for _, k := range []struct {
			key string
			n   *yaml.Node
		}{{"param", param}, {"size_param", sizeParam}, {"size", size}, {"start", start}, {"next", next}} {
			refuse(k.n, k.key, "the list is one answer")
		}
	case "link":
		refuse(param, "param", "the next page's address is in the Link header")
		refuse(start, "start", "the next page's address is in the Link header")
		refuse(next, "next", "the next page's address is in the Link header")
	case "page":
		refuse(next, "next", "pages are numbered")
	case "offset":
		refuse(next, "next", "pages are counted by offset")
		refuse(start, "start", "the offset starts at 0")
	case "cursor":
		refuse(start, "start", "the first page has no cursor")
	}
	if param != nil {
		nonEmpty(d, param, strictyaml.Join(p, "param"), &pg.param)
	}
	if sizeParam != nil {
		nonEmpty(d, sizeParam, strictyaml.Join(p, "size_param"), &pg.sizeParam)
	}
	if size != nil && d.Int(size, strictyaml.Join(p, "size"), &pg.size) && pg.size < 1 {
		d.Errorf(size, strictyaml.Join(p, "size"), "must be at least 1")
	}
	if start != nil && d.Int(start, strictyaml.Join(p, "start"), &pg.start) && pg.start < 0 {
		d.Errorf(start, strictyaml.Join(p, "start"), "must not be negative")
	}
	if next != nil {
		pg.next = decodePath(d, next, strictyaml.Join(p, "next"), false)
	}
	if style == "cursor" && pg.next == nil && next == nil {
		d.Errorf(v, strictyaml.Join(p, "next"), "missing: the path of the next cursor in the answer, such as meta.next_cursor")
	}
	if pg.sizeParam != "" && pg.size == 0 {
		pg.size = 100
	}
	if size != nil && pg.sizeParam == "" && (style == "cursor" || style == "link") {
		d.Errorf(size, strictyaml.Join(p, "size"), "needs size_param, the query parameter that asks for it")
	}
	s.paging = pg
	return true
}

// decodeFields reads fields: a path per case field.
func (s *source) decodeFields(d *strictyaml.Decoder, v *yaml.Node, p string) {
	f := &s.fields
	one := func(dst *path) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) { *dst = decodePath(d, v, p, false) }
	}
	history := func(dst **historyPath, example string) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) {
			h := &historyPath{}
			d.Fields(v, p, map[string]func(*yaml.Node, string){
				"path":  one(&h.path),
				"at":    one(&h.at),
				"value": one(&h.value),
			})
			for _, k := range []struct {
				key string
				got path
			}{{"path", h.path}, {"at", h.at}, {"value", h.value}} {
				if k.got == nil {
					d.Errorf(v, strictyaml.Join(p, k.key), "missing: want {path: LIST, at: TIME, value: VALUE} inside each entry, such as %s", example)
					return
				}
			}
			*dst = h
		}
	}
	d.Fields(v, p, map[string]func(*yaml.Node, string){
		"id":             one(&f.id),
		"key":            one(&f.key),
		"url":            one(&f.url),
		"created":        one(&f.created),
		"updated":        one(&f.updated),
		"status":         one(&f.status),
		"severity":       one(&f.severity),
		"customer":       one(&f.customer),
		"tier":           one(&f.tier),
		"timezone":       one(&f.timezone),
		"type":           one(&f.typ),
		"first_response": one(&f.firstResponse),
		"resolved":       one(&f.resolved),
		"labels": func(v *yaml.Node, p string) {
			if v.Kind == yaml.ScalarNode {
				if lp := decodePath(d, v, p, false); lp != nil {
					f.labels = &listPath{path: lp}
				}
				return
			}
			l := &listPath{}
			d.Fields(v, p, map[string]func(*yaml.Node, string){"path": one(&l.path), "value": one(&l.value)})
			if l.path == nil {
				d.Errorf(v, strictyaml.Join(p, "path"), "missing: the path of the list, such as tags")
				return
			}
			f.labels = l
		},
		"status_history":   history(&f.statusHistory, "{path: events, at: created_at, value: to_status}"),
		"severity_history": history(&f.severityHistory, "{path: priority_changes, at: at, value: to}"),
	})
	for _, k := range []struct {
		key string
		got path
	}{{"id", f.id}, {"created", f.created}, {"status", f.status}} {
		if k.got == nil {
			d.Errorf(v, strictyaml.Join(p, k.key), "missing: the path of the case's %s in an item", k.key)
		}
	}
}
