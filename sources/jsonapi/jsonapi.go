// Package jsonapi is the source for a ticket system that no other source
// knows (an in-house one, or one not listed): its JSON REST list endpoint
// is described in the configuration, and nothing is written in Go.
//
// Configuration keys (`type: jsonapi`):
//
//   - url (required): the list endpoint, which may hold a query
//     (filters, a sort order); requests_per_minute (default none);
//     overlap (default 5m).
//   - authentication, at most one: token or token_file (a bearer token);
//     username with password or password_file (basic); header: {name:
//     X-Api-Key, value: "${VAR}"} or value_file (a header of the
//     vendor's own; in a flow mapping ${VAR} is quoted, as a brace ends
//     the mapping). None is allowed, for an API inside a trusted network.
//   - paging (required): none; {style: page, param: page, size_param:
//     per_page, size: 100, start: 1}; {style: offset, param: offset,
//     size_param: limit, size: 100}; {style: cursor, param: cursor, next:
//     meta.next_cursor} (the next cursor's path in the body, empty or null
//     on the last page); or {style: link} (the Link header's rel="next",
//     RFC 8288, with an optional size_param and size on the first
//     request). Page and offset stop on an empty page or one shorter than
//     size. The defaults are those shown, except size, which is 100 when
//     size_param is given and otherwise unknown (then only an empty page
//     ends the list).
//   - updated_since: {param: updated_since, format: rfc3339} (optional):
//     the query parameter that lists what changed since an instant, and
//     how to write it: rfc3339 (the default), unix, unix_ms or a Go layout
//     such as "2006-01-02 15:04:05" (written in timezone). It needs
//     fields.updated. Without it every Sync lists everything and is Full.
//   - items: the path of the list of items in the body; empty (the
//     default) when the body is the list.
//   - fields (required): the path of each case field in an item. id,
//     created and status are required; key, url, updated, severity,
//     customer, tier, timezone, type, first_response and resolved are
//     optional; labels is a path to a list of strings, or {path: tags,
//     value: name} for a list of objects; status_history and
//     severity_history are {path: events, at: created_at, value:
//     to_status}, where entries without a value are skipped (events of
//     other kinds).
//   - time_format: how the items' times are written: rfc3339 (the
//     default), unix, unix_ms or a Go layout; timezone (default UTC) is
//     where a layout without a zone is read.
//   - status_map: {new: open, waiting: pending_customer, hold: on_hold,
//     solved: resolved, closed: closed}; a value that is not in it but is
//     one of the five normalised names is taken as it is; any other is a
//     problem naming the item, unless default_status is set.
//   - severity_map: {urgent: 1, high: 2, ...}; a value of 0 is unknown
//     (the policy's default_severity); numbers 1-4 not in the map are taken
//     as they are; any other value is a problem. tier_map renames tiers;
//     an unmapped tier is kept as it is. Map keys match without regard to
//     case.
//   - deleted: {path: deleted, value: true} (optional): items so marked
//     are reported deleted by an incremental Sync and left out elsewhere.
//
// Paths are keys and list indexes separated by dots (assignee.name,
// tags.0); a key holding a dot cannot be named.
//
// Sync: the first one (or any without updated_since) lists everything and
// keeps the open cases and those resolved since the start of the previous
// month; with updated_since a later one lists from its cursor (the latest
// update seen) less the overlap. Listing everything at first, rather than
// what changed since the previous month, keeps an open case nobody has
// touched for months. Window lists everything too and filters on the
// client: the API's filters are unknown, so a report for a past month
// costs a full listing (ceil(N / size) requests for N items). Sort a page
// or offset listing by update time, newest first, in the url's query: an
// item updated while the pages are read then moves to a page already read
// and comes with the next poll, where oldest first it would push another
// item past a page boundary unseen.
//
// A resolved time on a case whose status is not resolved or closed (a
// reopened case whose API keeps the old one) is dropped. The API user
// needs to read every item of the list endpoint, nothing more.
package jsonapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

type source struct {
	name       string
	url        *url.URL // the list endpoint, query included
	overlap    time.Duration
	paging     paging
	since      *since // nil: every Sync is full
	items      path
	fields     fieldPaths
	fieldsNode *yaml.Node
	timeF      timeFormat

	statusMap     map[string]sla.Status // keys in lower case
	defaultStatus *sla.Status
	severityMap   map[string]int
	tierMap       map[string]string
	deleted       *marker

	now    func() time.Time
	logger *slog.Logger
	opts   rest.Options
	client *rest.Client

	mu    sync.Mutex
	zones map[string]error // time zones checked, with the answer
}

// New is the sources.Factory of `type: jsonapi`; the package comment
// lists its keys.
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{name: env.Name, overlap: 5 * time.Minute, now: env.Now, logger: env.Logger, zones: map[string]error{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.decode(d, n, path, env.Dir)
	s.opts.Requests, s.opts.Clock, s.opts.Logger = env.Requests, env.Clock, s.logger
	s.client = rest.New(s.opts)
	return s
}

// setTestClient is the tests' hook: the client paces on clock and sends
// through transport (nil: the default).
func (s *source) setTestClient(clock rest.Clock, transport http.RoundTripper) {
	s.opts.Clock, s.opts.Transport = clock, transport
	s.client = rest.New(s.opts)
}

// Sync lists what changed since the cursor less the overlap or, without
// a cursor or updated_since, everything.
func (s *source) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	now := s.now().UTC()
	var prev time.Time
	full := cursor == "" || s.since == nil
	if !full {
		var err error
		if prev, err = time.Parse(time.RFC3339, cursor); err != nil {
			s.logger.Warn("Unreadable cursor: syncing everything again", "source_name", s.name, "cursor", cursor)
			full = true
		}
	}
	var from time.Time
	if !full {
		from = prev.Add(-s.overlap)
	}
	l, err := s.list(ctx, from)
	if err != nil {
		return sources.Batch{}, err
	}
	b := sources.Batch{Full: full, Problems: l.problems}
	monthStart := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	for _, it := range l.items {
		switch {
		case it.deleted:
			if !full {
				b.Deleted = append(b.Deleted, it.c.ID)
			}
		case full && it.c.Status.Done() && it.c.Resolved.Before(monthStart):
		default:
			b.Cases = append(b.Cases, it.c)
		}
	}
	// The cursor is the latest update the API reported, on its own clock;
	// an empty first listing starts from now.
	switch {
	case s.since == nil || (full && l.latest.IsZero()):
		b.Cursor = now.Format(time.RFC3339)
	case full || l.latest.After(prev):
		b.Cursor = l.latest.UTC().Format(time.RFC3339)
	default:
		b.Cursor = prev.UTC().Format(time.RFC3339)
	}
	return b, nil
}

// Window lists everything and keeps the cases created before to and not
// resolved before from.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	l, err := s.list(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	for _, p := range l.problems {
		s.logger.Warn("Skipped an item", "source_name", s.name, "err", p)
	}
	var out []sla.Case
	for _, it := range l.items {
		c := it.c
		if it.deleted || !c.Created.Before(to) || (!c.Resolved.IsZero() && c.Resolved.Before(from)) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// zoneErr checks a case's time zone once per name.
func (s *source) zoneErr(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err, ok := s.zones[name]
	if !ok {
		err = sla.CheckTimezone(name)
		s.zones[name] = err
	}
	return err
}
