package redmine

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

var _ sources.Noter = (*source)(nil)

type noteBody struct {
	Issue struct {
		Notes        string `json:"notes"`
		PrivateNotes bool   `json:"private_notes"`
	} `json:"issue"`
}

// Note adds a private note to issue id (PUT /issues/{id}.json with notes
// and private_notes): only users allowed to see private notes read it,
// and the source does not take it for a response.
func (s *source) Note(ctx context.Context, id, text string) error {
	if n, err := strconv.ParseUint(id, 10, 64); err != nil || n == 0 {
		return fmt.Errorf("issue %q: not a Redmine issue number", id)
	}
	var b noteBody
	b.Issue.Notes, b.Issue.PrivateNotes = text, true
	if _, err := s.client.Do(ctx, rest.Request{Method: http.MethodPut, Path: "/issues/" + id + ".json", Body: b, Once: true}, nil); err != nil {
		return fmt.Errorf("issue %s: private note: %w", id, err)
	}
	return nil
}
