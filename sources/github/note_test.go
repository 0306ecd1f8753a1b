package github

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/github/githubfake"
)

// Note comments on an issue of the source's repositories; the comment,
// written by a member, is not taken for a first response, while a
// member's own comment is.
func TestNote(t *testing.T) {
	fake, s, _ := setup(t, "")
	n := fake.AddIssue(repo, githubfake.Issue{User: customer, CreatedAt: now.Add(-time.Hour)})
	if err := s.Note(context.Background(), caseID(repo, n), "SLA first response due 10:15 UTC, 15 min left"); err != nil {
		t.Fatal(err)
	}
	if got := fake.Bodies(repo, n); !slices.Equal(got, []string{NoteMarker + "SLA first response due 10:15 UTC, 15 min left"}) {
		t.Errorf("comments %q", got)
	}
	for _, c := range []struct{ id, err string }{
		{"other/repo#1", "not in the source's repositories"},
		{repo + "#x", "not owner/repo#number"},
		{repo, "not owner/repo#number"},
		{repo + "#99", "HTTP 404"},
	} {
		if err := s.Note(context.Background(), c.id, "x"); err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), token) {
			t.Errorf("Note(%q): %v, want %q", c.id, err, c.err)
		}
	}
	if got := fake.Bodies(repo, n); len(got) != 1 {
		t.Errorf("%d comments after the failed notes, want 1", len(got))
	}

	b, err := s.Sync(context.Background(), "")
	if err != nil || len(b.Cases) != 1 {
		t.Fatalf("sync: %v, %d cases", err, len(b.Cases))
	}
	if fr := b.Cases[0].FirstResponse; !fr.IsZero() {
		t.Errorf("the note is taken for a first response at %v", fr)
	}
	fake.Comment(repo, n, now.Add(-10*time.Minute), agent, "MEMBER")
	b, err = s.Sync(context.Background(), "")
	if err != nil || len(b.Cases) != 1 {
		t.Fatalf("sync: %v, %d cases", err, len(b.Cases))
	}
	if fr := b.Cases[0].FirstResponse; !fr.Equal(now.Add(-10 * time.Minute)) {
		t.Errorf("first response %v, want the member's comment at %v", fr, now.Add(-10*time.Minute))
	}
}
