package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"

	"github.com/support-sla/support_sla_exporter/exporter"
)

// wbServer runs the exporter of the configuration at path and serves its
// handler, as `serve` does, until the end of the test.
func wbServer(t *testing.T, path string) (*exporter.Exporter, *httptest.Server) {
	t.Helper()
	e, err := exporter.New(exporter.Options{ConfigFile: path, Registry: registry(), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	h, err := e.Handler("test")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return e, srv
}

// wbAlert is an alert of the bridge on a case, due at due.
func wbAlert(status, source, id, fingerprint string, startsAt, due time.Time) template.Alert {
	a := template.Alert{Status: status, Fingerprint: fingerprint, StartsAt: startsAt,
		Labels: template.KV{"alertname": "SupportSLACaseBreachImminent", "source": source, "case": id, "customer": "acme",
			"tier": "premium", "case_severity": "1", "target": "first_response", "severity": "critical"},
		Annotations: template.KV{"summary": "A case's SLA target is about to breach.", "due": due.UTC().Format(time.RFC3339)}}
	if status == "resolved" {
		a.EndsAt = startsAt.Add(time.Minute)
	}
	return a
}

// wbNotify posts alerts as Alertmanager's webhook receiver does; the
// endpoint answers 200.
func wbNotify(t *testing.T, url string, alerts ...template.Alert) {
	t.Helper()
	m := webhook.Message{Version: "4", GroupKey: "{}:{}", Data: &template.Data{Receiver: "write-back", Status: alerts[0].Status,
		Alerts: alerts, GroupLabels: template.KV{}, CommonLabels: template.KV{}, CommonAnnotations: template.KV{}}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: time.Minute}
	resp, err := c.Post(url+exporter.WebhookPath, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d, want 200", exporter.WebhookPath, resp.StatusCode)
	}
}

// wbNotesWritten is support_sla_writeback_notes_total{source, result="written"}.
func wbNotesWritten(t *testing.T, e *exporter.Exporter, source string) float64 {
	t.Helper()
	mfs, err := e.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "support_sla_writeback_notes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["source"] == source && l["result"] == "written" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
