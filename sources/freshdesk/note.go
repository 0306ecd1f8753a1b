package freshdesk

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

var _ sources.Noter = (*source)(nil)

// Note writes text as a private note on ticket id (Freshdesk API v2, "Add
// Note to a ticket", developers.freshdesk.com/api/#add_note_to_a_ticket):
//
//	POST /api/v2/tickets/{id}/notes
//	{"body": "…", "private": true}
//
// The body is HTML: text is escaped and its line breaks become <br>.
// private is Freshdesk's default, sent all the same. The API key's agent
// needs access to the ticket (its ticket scope) to add a note.
func (s *source) Note(ctx context.Context, id, text string) error {
	body := strings.ReplaceAll(html.EscapeString(text), "\n", "<br>")
	_, err := s.client.Do(ctx, rest.Request{
		Once:   true,
		Method: http.MethodPost,
		Path:   "/api/v2/tickets/" + url.PathEscape(id) + "/notes",
		Body:   map[string]any{"body": body, "private": true},
	}, nil)
	if err != nil {
		return fmt.Errorf("writing a private note on Freshdesk ticket %s: %w", id, err)
	}
	return nil
}
