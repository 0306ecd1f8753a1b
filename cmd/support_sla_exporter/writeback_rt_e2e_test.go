package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/support-sla/support_sla_exporter/sources/rt/rttest"
)

// wbWithWriteBack turns write_back on in the configuration at path.
func wbWithWriteBack(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("alerting:\n  write_back: true\n"); err != nil {
		t.Fatal(err)
	}
}

// wbDueText is how a note writes due, seen at now.
func wbDueText(due, now time.Time) string {
	if due.UTC().YearDay() != now.UTC().YearDay() {
		return due.UTC().Format("2006-01-02 15:04 UTC")
	}
	return due.UTC().Format("15:04 UTC")
}

// wbSteps are the notifications of one alert on a case, and the notes the
// case holds after each.
func wbSteps(source, id string, now time.Time) []struct {
	name  string
	alert template.Alert
	want  []string
} {
	due := now.Add(15 * time.Minute)
	firing := "SLA first response due " + wbDueText(due, now) + ", 15 min left"
	resolved := "SLA first response due " + wbDueText(due, now) + ": resolved"
	return []struct {
		name  string
		alert template.Alert
		want  []string
	}{
		{"firing", wbAlert("firing", source, id, "", now, due), []string{firing}},
		{"the same alert again", wbAlert("firing", source, id, "", now, due), []string{firing}},
		{"resolved", wbAlert("resolved", source, id, "", now, due), []string{firing, resolved}},
		{"resolved again", wbAlert("resolved", source, id, "", now, due), []string{firing, resolved}},
	}
}

// TestWriteBackRTE2E: an alert on a ticket of the real Request Tracker,
// posted to the webhook, writes one comment per state, and the next
// notification of the same alert none; never a correspond (RT would mail
// it to the requestor).
func TestWriteBackRTE2E(t *testing.T) {
	srv := rttest.FromEnv(t)
	id := srv.Create(t, "e2e "+t.Name(), map[string]any{"Priority": 90})
	srv.DeleteAtEnd(t, id)
	t.Setenv("RT_TOKEN", srv.Token)
	path := rtConfig(t, srv, id, "    default_tier: premium\n    tiers:\n      premium:\n        calendar: 24x7\n        first_response: {1: 1h, 2: 2h, 3: 4h, 4: 8h}\n")
	wbWithWriteBack(t, path)
	e, web := wbServer(t, path)

	txns := func(kind string) []string {
		out := srv.SQL(t, "SELECT a.Content FROM Transactions t JOIN Attachments a ON a.TransactionId = t.id "+
			"WHERE t.ObjectType = 'RT::Ticket' AND t.ObjectId = "+id+" AND t.Type = '"+kind+"' AND a.Content <> '' ORDER BY t.id, a.id")
		if out == "" {
			return nil
		}
		return strings.Split(out, "\n")
	}
	for _, step := range wbSteps("rt", id, time.Now().UTC()) {
		wbNotify(t, web.URL, step.alert)
		if got := txns("Comment"); !slices.Equal(got, step.want) {
			t.Errorf("%s: the ticket's comments are %q, want %q", step.name, got, step.want)
		}
	}
	if got := txns("Correspond"); len(got) != 0 {
		t.Errorf("the notes were sent to the requestor: %q", got)
	}
	if got := wbNotesWritten(t, e, "rt"); got != 2 {
		t.Errorf("%v notes counted as written, want 2", got)
	}
}
