package rt

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

var _ sources.Noter = (*source)(nil)

// rtComment is REST2's comment body: plain text, no subject.
type rtComment struct {
	Content     string `json:"Content"`
	ContentType string `json:"ContentType"`
}

// Note adds a comment to ticket id (POST /REST/2.0/ticket/{id}/comment):
// a comment, never a correspond, so RT does not mail it to the requestor
// and the source does not take it for a response.
func (s *source) Note(ctx context.Context, id, text string) error {
	if n, err := strconv.ParseUint(id, 10, 64); err != nil || n == 0 {
		return fmt.Errorf("ticket %q: not an RT ticket number", id)
	}
	_, err := s.client.Do(ctx, rest.Request{Method: http.MethodPost, Once: true, Path: apiPath + "/ticket/" + id + "/comment",
		Body: rtComment{Content: text, ContentType: "text/plain"}}, nil)
	if err != nil {
		return fmt.Errorf("ticket %s: comment: %w", id, err)
	}
	return nil
}
