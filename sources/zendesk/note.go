package zendesk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

var _ sources.Noter = (*source)(nil)

// Note writes text as a private comment (an internal note) on ticket id.
// Zendesk adds comments through a ticket update only (the Ticket Comments
// API has no create endpoint: developer.zendesk.com, "Ticket Comments",
// "Creating ticket comments"):
//
//	PUT /api/v2/tickets/{id}.json
//	{"ticket": {"comment": {"body": "…", "public": false}}}
//
// The API user must be an agent who may edit the ticket (a light agent
// may too: private comments are all it can add). A closed ticket cannot
// be updated: Zendesk answers 422.
func (s *source) Note(ctx context.Context, id, text string) error {
	body := map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": text, "public": false}}}
	_, err := s.client.Do(ctx, rest.Request{
		Once:   true,
		Method: http.MethodPut,
		Path:   "/api/v2/tickets/" + url.PathEscape(id) + ".json",
		Body:   body,
	}, nil)
	if err != nil {
		return fmt.Errorf("writing an internal note on Zendesk ticket %s: %w", id, err)
	}
	return nil
}
