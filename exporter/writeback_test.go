package exporter

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// wbAt is the instant the write-back tests run at.
var wbAt = time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)

// noting is a source that writes notes into memory: case 999 fails, case
// "slow" waits for release (or its context).
type noting struct {
	release chan struct{}
	mu      sync.Mutex
	notes   []string // "id: text"
	tries   int
}

func (n *noting) Sync(context.Context, string) (sources.Batch, error) {
	cases := []sla.Case{
		{Source: "noter", ID: "101", Key: "SUP-101", Status: sla.StatusOpen, Severity: 2, Created: wbAt.Add(-time.Hour)},
		{Source: "noter", ID: "102", Key: "SUP-102", Status: sla.StatusOpen, Severity: 3, Created: wbAt.Add(-time.Hour)},
	}
	return sources.Batch{Full: true, Cases: cases, Cursor: "c"}, nil
}

func (n *noting) Window(context.Context, time.Time, time.Time) ([]sla.Case, error) { return nil, nil }

func (n *noting) Note(ctx context.Context, id, text string) error {
	n.mu.Lock()
	n.tries++
	n.mu.Unlock()
	switch id {
	case "999":
		return errors.New("ticket 999: HTTP 500")
	case "slow":
		select {
		case <-n.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, id+": "+text)
	return nil
}

func (n *noting) written() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.notes)
}

// plain is a source that cannot write notes.
type plain struct{}

func (plain) Sync(context.Context, string) (sources.Batch, error) {
	return sources.Batch{Full: true, Cursor: "c"}, nil
}

func (plain) Window(context.Context, time.Time, time.Time) ([]sla.Case, error) { return nil, nil }

// wbExporter runs a configuration with the sources noter (type noting) and
// plain (type plain), write_back as given, polled once.
func wbExporter(t *testing.T, writeBack bool) (*Exporter, *noting) {
	t.Helper()
	n := &noting{release: make(chan struct{})}
	t.Cleanup(func() { close(n.release) })
	factory := func(s sources.Source) sources.Factory {
		return func(d *strictyaml.Decoder, node *yaml.Node, path string, _ sources.Env) sources.Source {
			sources.Fields(d, node, path, nil)
			return s
		}
	}
	yml := "sources:\n  - {name: noter, type: noting, policy: p}\n  - {name: plain, type: plain, policy: p}\n" +
		"alerting:\n  write_back: " + map[bool]string{true: "true", false: "false"}[writeBack] + "\n" +
		"policies:\n  p:\n    default_tier: basic\n    tiers:\n      basic:\n        calendar: 24x7\n        first_response: {1: 1h, 2: 2h, 3: 4h, 4: 8h}\n"
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{ConfigFile: path, Now: func() time.Time { return wbAt },
		Registry: sources.Registry{"noting": factory(n), "plain": factory(plain{})}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for !e.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the sources were not polled in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The handler waits for its notes: no timer fires.
	e.writeBack.after = func(time.Duration) <-chan time.Time { return nil }
	return e, n
}

// post sends a fixture of testdata/webhook to the handler.
func post(t *testing.T, h http.Handler, method, fixture string) (int, string) {
	t.Helper()
	body := ""
	if fixture != "" {
		b, err := os.ReadFile(filepath.Join("testdata", "webhook", fixture))
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, WebhookPath, strings.NewReader(body)))
	return rec.Code, rec.Body.String()
}

// Each alert's state writes one note, and the next notification of the
// same alert none; a failed note is tried again at the next one.
func TestWriteBack(t *testing.T) {
	e, n := wbExporter(t, true)
	h, err := e.Handler("test")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name, method, fixture string
		code                  int
		notes                 []string // new notes
		tries                 int      // new calls of Note
	}{
		{"firing", http.MethodPost, "firing.json", http.StatusOK, []string{
			"101: SLA first response due 14:15 UTC, 15 min left",
			"102: SLA resolution due 2026-03-04 16:30 UTC, 1 d 2 h left",
		}, 2},
		{"the same alerts again", http.MethodPost, "firing.json", http.StatusOK, nil, 0},
		{"resolved", http.MethodPost, "resolved.json", http.StatusOK, []string{"101: SLA first response due 14:15 UTC: resolved"}, 1},
		{"resolved again", http.MethodPost, "resolved.json", http.StatusOK, nil, 0},
		{"firing again from a new start", http.MethodPost, "refired.json", http.StatusOK, []string{"101: SLA first response due 14:15 UTC, 15 min left"}, 1},
		{"a failing note answers 200", http.MethodPost, "failing.json", http.StatusOK, nil, 1},
		{"a failed note is tried again", http.MethodPost, "failing.json", http.StatusOK, nil, 1},
		{"a bad status", http.MethodPost, "bad-status.json", http.StatusBadRequest, nil, 0},
		{"truncated JSON", http.MethodPost, "truncated.json", http.StatusBadRequest, nil, 0},
		{"not Alertmanager's", http.MethodPost, "not-alertmanager.json", http.StatusBadRequest, nil, 0},
		{"no body", http.MethodPost, "", http.StatusBadRequest, nil, 0},
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed, nil, 0},
	} {
		t.Run(step.name, func(t *testing.T) {
			before, tries := n.written(), n.tries
			code, body := post(t, h, step.method, step.fixture)
			if code != step.code {
				t.Errorf("%s: %d %q, want %d", step.fixture, code, body, step.code)
			}
			got := n.written()[len(before):]
			slices.Sort(got)
			if !slices.Equal(got, step.notes) {
				t.Errorf("new notes %q, want %q", got, step.notes)
			}
			if d := n.tries - tries; d != step.tries {
				t.Errorf("%d notes tried, want %d", d, step.tries)
			}
		})
	}
	for _, c := range []struct {
		source, result string
		want           float64
	}{
		{"noter", noteWritten, 4}, {"noter", noteFailed, 2}, {"plain", noteUnsupported, 1},
	} {
		if got := testutil.ToFloat64(e.writeBack.notes.WithLabelValues(c.source, c.result)); got != c.want {
			t.Errorf("support_sla_writeback_notes_total{source=%q,result=%q} = %v, want %v", c.source, c.result, got, c.want)
		}
	}
	if got := testutil.CollectAndCount(e.writeBack.notes); got != 3 {
		t.Errorf("%d series of support_sla_writeback_notes_total, want 3 (no unknown source)", got)
	}
}

// With write_back off the endpoint is not there.
func TestWriteBackOff(t *testing.T) {
	e, n := wbExporter(t, false)
	h, err := e.Handler("test")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, h, http.MethodPost, "firing.json"); code != http.StatusNotFound {
		t.Errorf("POST with write_back off: %d %q, want 404", code, body)
	}
	if got := n.written(); len(got) != 0 {
		t.Errorf("notes written with write_back off: %q", got)
	}
}

// A slow source does not hold the handler past its wait; the note is
// written once it comes, and only once.
func TestWriteBackSlowSource(t *testing.T) {
	e, n := wbExporter(t, true)
	fired := make(chan time.Time)
	close(fired)
	var waited time.Duration
	e.writeBack.after = func(d time.Duration) <-chan time.Time { waited = d; return fired }
	code, _ := post(t, e.writeBack, http.MethodPost, "slow.json")
	if code != http.StatusOK {
		t.Fatalf("POST: %d, want 200", code)
	}
	if waited != e.writeBack.replyWithin {
		t.Errorf("waited %v, want %v", waited, e.writeBack.replyWithin)
	}
	if got := n.written(); len(got) != 0 {
		t.Fatalf("the slow note is written before its source answers: %q", got)
	}
	// The same notification while the note is on its way writes nothing more.
	if code, _ := post(t, e.writeBack, http.MethodPost, "slow.json"); code != http.StatusOK {
		t.Fatalf("POST again: %d", code)
	}
	n.release <- struct{}{}
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(e.writeBack.notes.WithLabelValues("noter", noteWritten)) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the slow note was never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := n.written(); !slices.Equal(got, []string{"slow: SLA resolution breached: due 12:00 UTC, 2 h 00 min ago"}) {
		t.Errorf("notes %q", got)
	}
	if n.tries != 1 {
		t.Errorf("%d notes tried, want 1", n.tries)
	}
}

// The record of notes is bounded: the oldest go first.
func TestWriteBackRecordBounded(t *testing.T) {
	w := newWriteBack(nil)
	first := noteKey{fingerprint: "first", status: "firing"}
	if !w.claim(first) || w.claim(first) {
		t.Fatal("a key is claimed twice, or never")
	}
	for i := range maxRecorded {
		w.claim(noteKey{fingerprint: "k", startsAt: int64(i), status: "firing"})
	}
	if len(w.seen) != maxRecorded || len(w.ring) != maxRecorded {
		t.Errorf("%d keys, %d in order, want %d", len(w.seen), len(w.ring), maxRecorded)
	}
	if !w.claim(first) {
		t.Error("the oldest key is still recorded past the bound")
	}
}

func TestNoteText(t *testing.T) {
	alert := func(status, name, target, due string) template.Alert {
		return template.Alert{Status: status, Labels: template.KV{"alertname": name, "target": target},
			Annotations: template.KV{"due": due, "summary": "An SLA target was breached."}}
	}
	for _, c := range []struct {
		name string
		a    template.Alert
		want string
	}{
		{"imminent", alert("firing", "SupportSLACaseBreachImminent", "first_response", "2026-03-03T14:15:00Z"), "SLA first response due 14:15 UTC, 15 min left"},
		{"seconds round to the minute", alert("firing", "SupportSLACaseBreachImminent", "first_response", "2026-03-03T14:14:40+00:00"), "SLA first response due 14:14 UTC, 15 min left"},
		{"another zone is shown in UTC", alert("firing", "SupportSLACaseWarning", "resolution", "2026-03-03T17:05:00+02:00"), "SLA resolution due 15:05 UTC, 1 h 05 min left"},
		{"another day", alert("firing", "SupportSLACaseWarning", "resolution", "2026-03-05T09:00:00Z"), "SLA resolution due 2026-03-05 09:00 UTC, 1 d 19 h left"},
		{"due now", alert("firing", "SupportSLACaseBreachImminent", "first_response", "2026-03-03T14:00:10Z"), "SLA first response due 14:00 UTC, now"},
		{"breached at its instant", alert("firing", "SupportSLACaseBreached", "first_response", "2026-03-03T14:00:00Z"), "SLA first response breached: due 14:00 UTC, under 1 min ago"},
		{"breached", alert("firing", "SupportSLACaseBreached", "first_response", "2026-03-03T13:48:00Z"), "SLA first response breached: due 13:48 UTC, 12 min ago"},
		{"resolved", alert("resolved", "SupportSLACaseBreached", "first_response", "2026-03-03T13:48:00Z"), "SLA first response due 13:48 UTC: resolved"},
		{"no due", alert("firing", "SupportSLACaseBreached", "first_response", ""), "SLA first response: An SLA target was breached."},
		{"no due, resolved", alert("resolved", "SupportSLACaseBreached", "", "soon"), "SLA target: An SLA target was breached.: resolved"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := noteText(c.a, wbAt); got != c.want {
				t.Errorf("%q, want %q", got, c.want)
			}
		})
	}
}
