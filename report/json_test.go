package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestWriteJSON(t *testing.T) {
	in := loadInput(t)
	r, err := Build(in, Options{
		Month: Month{2026, time.March}, Now: time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC),
		Location: paris(t), ByCustomer: true, Months: 1, Objectives: objectives,
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "march-paris.json.golden", buf.Bytes())

	// It reads back into the model unchanged, ratios unrounded.
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Tiers[0].Compliance == nil || *back.Tiers[0].Compliance != 12.0/13 {
		t.Errorf("basic's compliance read back as %v, want 12/13 unrounded", back.Tiers[0].Compliance)
	}
	if !back.AsOf.Equal(r.AsOf) || len(back.Cases) != len(r.Cases) || len(back.Customers) != 4 || len(back.Trend) != 2 {
		t.Errorf("read back: as of %s, %d cases, %d customers, %d months", back.AsOf, len(back.Cases), len(back.Customers), len(back.Trend))
	}
	if !strings.Contains(buf.String(), `"url": "https://desk.example.com/SUP-3?view=sla&x=1"`) {
		t.Errorf("the ticket URL is escaped")
	}
}

// An empty month has empty lists, not nulls: scripts iterate over them.
func TestWriteJSONEmpty(t *testing.T) {
	r, err := Build(Input{}, Options{Month: Month{2026, time.March}, Now: time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rows", "tiers", "worst", "cases"} {
		if _, ok := m[k].([]any); !ok {
			t.Errorf("%s is %v, want []", k, m[k])
		}
	}
}
