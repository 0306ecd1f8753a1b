package github

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

var _ sources.Noter = (*source)(nil)

// NoteMarker starts every comment Note writes. GitHub has no private
// comments: the note is public, and it is written as the token's user,
// who may be a responder; the source skips comments that start with the
// marker, so a note never counts as a first response.
const NoteMarker = "<!-- support_sla_exporter note -->\n"

// Note adds a comment to issue id ("owner/repo#n") of one of the source's
// repositories (POST /repos/{owner}/{repo}/issues/{n}/comments).
func (s *source) Note(ctx context.Context, id, text string) error {
	repo, num, ok := strings.Cut(id, "#")
	if n, err := strconv.Atoi(num); !ok || err != nil || n <= 0 {
		return fmt.Errorf("issue %q: not owner/repo#number", id)
	}
	if !slices.ContainsFunc(s.repos, func(r string) bool { return strings.EqualFold(r, repo) }) {
		return fmt.Errorf("issue %s: not in the source's repositories", id)
	}
	body := map[string]string{"body": NoteMarker + text}
	if _, err := s.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/repos/" + repo + "/issues/" + num + "/comments", Body: body, Once: true}, nil); err != nil {
		return fmt.Errorf("issue %s: comment: %w", id, err)
	}
	return nil
}

// isNote reports whether a comment body is one of Note's.
func isNote(body string) bool { return strings.HasPrefix(body, strings.TrimSuffix(NoteMarker, "\n")) }
