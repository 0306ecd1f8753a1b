package exporter

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/support-sla/support_sla_exporter/sources"
)

// WebhookPath is where Alertmanager's webhook receiver posts the alerts
// whose notes are written back to their cases.
const WebhookPath = "/alertmanager/webhook"

// Write-back limits.
const (
	// maxRecorded bounds the record of the notes written (or being
	// written): the oldest entries go first.
	maxRecorded = 10000
	// maxPayload bounds a webhook body.
	maxPayload = 16 << 20
	// maxConcurrentNotes bounds the notes being written at once.
	maxConcurrentNotes = 8
)

// Note results: the result label of support_sla_writeback_notes_total.
const (
	noteWritten     = "written"
	noteFailed      = "failed"
	noteUnsupported = "unsupported"
)

// writeBack serves POST /alertmanager/webhook: for each alert that names a
// source and a case, it writes one note on the case through the source,
// once per alert (fingerprint and start) and status.
type writeBack struct {
	e     *Exporter
	notes *prometheus.CounterVec
	// noteTimeout bounds the writing of one note, retries included;
	// replyWithin is how long the handler waits for the notes before it
	// answers (they go on in the background, within noteTimeout).
	noteTimeout, replyWithin time.Duration
	// after is the timer of replyWithin; tests replace it.
	after func(time.Duration) <-chan time.Time
	slots chan struct{}

	mu   sync.Mutex
	seen map[noteKey]uint64 // claimed (written or being written) → sequence
	ring []recorded         // claims in order, for eviction
	next uint64
}

// noteKey is one state of one alert: a new firing of the same alert has a
// new start.
type noteKey struct {
	fingerprint string
	startsAt    int64
	status      string
}

type recorded struct {
	key noteKey
	seq uint64
}

func newWriteBack(e *Exporter) *writeBack {
	return &writeBack{
		e: e,
		notes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "support_sla_writeback_notes_total",
			Help: "Notes written on cases for the alerts received on " + WebhookPath + ", by source and result (written, failed, unsupported: the source cannot write notes)."},
			[]string{"source", "result"}),
		noteTimeout: 30 * time.Second, replyWithin: 5 * time.Second, after: time.After,
		slots: make(chan struct{}, maxConcurrentNotes),
		seen:  map[noteKey]uint64{},
	}
}

func (w *writeBack) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !w.e.Config().Alerting.WriteBack {
		http.Error(rw, "Write-back is off: set alerting.write_back: true in the configuration.", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "Post Alertmanager's webhook payload.", http.StatusMethodNotAllowed)
		return
	}
	var m webhook.Message
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxPayload)).Decode(&m); err != nil {
		http.Error(rw, "Not an Alertmanager webhook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := valid(&m); err != nil {
		http.Error(rw, "Not an Alertmanager webhook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	now := w.e.opts.Now()
	var wg sync.WaitGroup
	for _, a := range m.Alerts {
		src, id := a.Labels["source"], a.Labels["case"]
		if src == "" || id == "" {
			continue
		}
		noter, known := w.noter(src)
		if !known {
			w.e.opts.Logger.Debug("Write-back: the alert's source is not configured", "source", src, "case", id)
			continue
		}
		key := keyOf(a)
		if !w.claim(key) {
			continue // written already, or being written
		}
		if noter == nil {
			w.notes.WithLabelValues(src, noteUnsupported).Inc()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.write(noter, src, w.caseID(src, id), key, noteText(a, now))
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-w.after(w.replyWithin):
		w.e.opts.Logger.Warn("Write-back: a source is slow, answering before its notes are written", "wait", w.replyWithin)
	}
	fmt.Fprintln(rw, "OK.")
}

// valid checks what a webhook payload must have.
func valid(m *webhook.Message) error {
	if m.Data == nil || m.Alerts == nil {
		return fmt.Errorf("no alerts")
	}
	for i, a := range m.Alerts {
		if a.Status != string(model.AlertFiring) && a.Status != string(model.AlertResolved) {
			return fmt.Errorf("alerts[%d]: status %q, want firing or resolved", i, a.Status)
		}
	}
	return nil
}

// noter is the running source named src: nil when it cannot write notes;
// known is false when no such source runs.
func (w *writeBack) noter(src string) (n sources.Noter, known bool) {
	for _, s := range w.e.Config().Sources {
		if s.Name == src {
			n, _ = s.Source.(sources.Noter)
			return n, true
		}
	}
	return nil, false
}

// caseID is the source's id of the case the label names: the label is the
// id, or the case's key.
func (w *writeBack) caseID(src, label string) string {
	for _, p := range w.e.Pollers() {
		if p.Name() != src {
			continue
		}
		for _, c := range p.Snapshot().Cases {
			if c.ID == label {
				return label
			}
			if c.Key == label {
				return c.ID
			}
		}
	}
	return label
}

// write writes one note; a failure forgets the claim, so that the next
// notification of the alert tries again.
func (w *writeBack) write(n sources.Noter, src, id string, key noteKey, text string) {
	ctx, cancel := context.WithTimeout(context.Background(), w.noteTimeout)
	defer cancel()
	var err error
	select {
	case w.slots <- struct{}{}:
		err = n.Note(ctx, id, text)
		<-w.slots
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		w.forget(key)
		w.notes.WithLabelValues(src, noteFailed).Inc()
		w.e.opts.Logger.Error("Write-back: the note was not written", "source", src, "case", id, "err", err)
		return
	}
	w.notes.WithLabelValues(src, noteWritten).Inc()
	w.e.opts.Logger.Debug("Write-back: note written", "source", src, "case", id)
}

// keyOf is an alert's state: its fingerprint (computed from its labels
// when Alertmanager sent none), its start and its status.
func keyOf(a template.Alert) noteKey {
	fp := a.Fingerprint
	if fp == "" {
		ls := make(model.LabelSet, len(a.Labels))
		for k, v := range a.Labels {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		fp = ls.Fingerprint().String()
	}
	return noteKey{fingerprint: fp, startsAt: a.StartsAt.UnixNano(), status: a.Status}
}

// claim records key and reports whether it was new. The record is bounded:
// past maxRecorded, the oldest claim is forgotten.
func (w *writeBack) claim(k noteKey) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.seen[k]; ok {
		return false
	}
	w.next++
	w.seen[k] = w.next
	if len(w.ring) >= maxRecorded {
		old := w.ring[0]
		if w.seen[old.key] == old.seq {
			delete(w.seen, old.key)
		}
		w.ring = append(w.ring[:0], w.ring[1:]...)
	}
	w.ring = append(w.ring, recorded{k, w.next})
	return true
}

func (w *writeBack) forget(k noteKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.seen, k)
}

// noteText is the note of an alert: "SLA first response due 14:05 UTC, 15
// min left", "SLA resolution breached: due 14:05 UTC, 12 min ago", "SLA
// first response due 14:05 UTC: resolved".
func noteText(a template.Alert, now time.Time) string {
	target := strings.ReplaceAll(cmp.Or(a.Labels["target"], "target"), "_", " ")
	due, err := time.Parse(time.RFC3339, a.Annotations["due"])
	if err != nil {
		what := cmp.Or(a.Annotations["summary"], a.Labels["alertname"])
		if a.Status == string(model.AlertResolved) {
			return fmt.Sprintf("SLA %s: %s: resolved", target, what)
		}
		return fmt.Sprintf("SLA %s: %s", target, what)
	}
	at := clockTime(due, now)
	left := due.Sub(now).Round(time.Minute)
	switch {
	case a.Status == string(model.AlertResolved):
		return fmt.Sprintf("SLA %s due %s: resolved", target, at)
	case left > 0:
		return fmt.Sprintf("SLA %s due %s, %s left", target, at, span(left))
	case left == 0 && !strings.HasSuffix(a.Labels["alertname"], "Breached"):
		return fmt.Sprintf("SLA %s due %s, now", target, at)
	}
	return fmt.Sprintf("SLA %s breached: due %s, %s ago", target, at, span(-left))
}

// clockTime writes an instant in UTC, with its date when it is not on
// now's day.
func clockTime(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04 UTC")
	}
	return t.Format("2006-01-02 15:04 UTC")
}

// span writes a whole number of minutes: "15 min", "2 h 05 min", "3 d 4 h".
func span(d time.Duration) string {
	m := int64(d / time.Minute)
	switch {
	case m < 1:
		return "under 1 min"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60:
		return fmt.Sprintf("%d h %02d min", m/60, m%60)
	}
	return fmt.Sprintf("%d d %d h", m/(24*60), m/60%24)
}
