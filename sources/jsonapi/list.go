package jsonapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

// item is one listed item: its case, or only its id when it is deleted.
type item struct {
	c       sla.Case
	deleted bool
}

// listing is what one listing read.
type listing struct {
	items    []item
	problems []error
	latest   time.Time // the latest update time read; zero if none
}

// list reads every page of the list endpoint, with the updated_since
// parameter set to from unless it is zero. An item listed twice (it moved
// between pages while they were read) keeps its last version.
func (s *source) list(ctx context.Context, from time.Time) (listing, error) {
	var l listing
	at := map[string]int{}
	pg := s.paging
	q := s.url.Query()
	if s.since != nil && !from.IsZero() {
		q.Set(s.since.param, s.since.format.format(from))
	}
	if pg.sizeParam != "" {
		q.Set(pg.sizeParam, strconv.Itoa(pg.size))
	}
	switch pg.style {
	case "page":
		q.Set(pg.param, strconv.Itoa(pg.start))
	case "offset":
		q.Set(pg.param, "0")
	}
	next := s.with(q)
	n := 0 // the item's index in the whole listing
	var firstID, lastNext string
	for page := 1; ; page++ {
		var raw json.RawMessage
		h, err := s.client.Do(ctx, rest.Request{Path: next}, &raw)
		if err != nil {
			return listing{}, fmt.Errorf("listing page %d: %w", page, err)
		}
		body, err := decodeJSON(raw)
		if err != nil {
			return listing{}, fmt.Errorf("listing page %d: %w", page, err)
		}
		list, err := s.itemsOf(body, page)
		if err != nil {
			return listing{}, fmt.Errorf("listing page %d: %w", page, err)
		}
		for _, v := range list {
			it, updated, err := s.build(n, v)
			n++
			if updated.After(l.latest) {
				l.latest = updated
			}
			if err != nil {
				l.problems = append(l.problems, err)
				continue
			}
			if i, ok := at[it.c.ID]; ok {
				l.items[i] = it
				continue
			}
			at[it.c.ID] = len(l.items)
			l.items = append(l.items, it)
		}

		switch pg.style {
		case "none":
			return l, nil
		case "page", "offset":
			if len(list) == 0 || (pg.size > 0 && len(list) < pg.size) {
				return l, nil
			}
			// A server that ignores the parameter answers the first page
			// again and again.
			id := idOf(s, list[0])
			if page > 1 && id != "" && id == firstID {
				return listing{}, fmt.Errorf("listing page %d: it starts with item %q like the page before: does the API take the %s parameter?", page, id, pg.param)
			}
			firstID = id
			if pg.style == "page" {
				q.Set(pg.param, strconv.Itoa(pg.start+page))
			} else {
				q.Set(pg.param, strconv.Itoa(n))
			}
			next = s.with(q)
		case "cursor":
			v, _ := pg.next.get(body)
			c, _ := text(v)
			if c == "" || len(list) == 0 {
				return l, nil
			}
			if c == lastNext {
				return listing{}, fmt.Errorf("listing page %d: the next cursor at %s is the one of the page before", page, pg.next)
			}
			lastNext = c
			q.Set(pg.param, c)
			next = s.with(q)
		case "link":
			link := rest.NextLink(h)
			if link == "" {
				return l, nil
			}
			u, err := url.Parse(link)
			if err != nil {
				return listing{}, fmt.Errorf("listing page %d: the Link header's next address is not a URL", page)
			}
			link = s.url.ResolveReference(u).String()
			if link == lastNext || link == next {
				return listing{}, fmt.Errorf("listing page %d: the Link header's next page is the page just read", page)
			}
			lastNext, next = next, link
		}
	}
}

// with is the list endpoint's address with the query q.
func (s *source) with(q url.Values) string {
	u := *s.url
	u.RawQuery = q.Encode()
	return u.String()
}

// decodeJSON decodes a JSON answer keeping numbers as they are written, so
// that a large numeric id stays exact.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("malformed JSON answer: %w", err)
	}
	return v, nil
}

// itemsOf is the list of items of an answer. A first page without it is an
// error (the items path is probably wrong); a later page without it, or
// with null, is empty, as APIs leave out an empty list.
func (s *source) itemsOf(body any, page int) ([]any, error) {
	v, ok := s.items.get(body)
	where := "the answer"
	if len(s.items) > 0 {
		where = s.items.String() + " (items)"
	}
	switch x := v.(type) {
	case nil:
		if !ok && page == 1 {
			return nil, fmt.Errorf("the answer has no %s", where)
		}
		return nil, nil
	case []any:
		return x, nil
	}
	return nil, fmt.Errorf("%s is %s, not a list of items", where, show(v))
}

// idOf is an item's id as text, or "".
func idOf(s *source, v any) string {
	id, _ := s.fields.id.get(v)
	t, _ := text(id)
	return t
}
