package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// The header the contract (interfaces.md) fixes, written out here rather
// than taken from csvColumns, so that a change to either fails.
const contractHeader = "month,source,tier,severity,target,decided,met,missed,breached,compliance_ratio,median_elapsed_seconds,p90_elapsed_seconds,excluded,not_applicable,best_effort"

func TestWriteCSV(t *testing.T) {
	in := loadInput(t)
	now := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	march := Month{2026, time.March}
	for _, tt := range []struct {
		name   string
		o      Options
		header string
	}{
		{"march", Options{Month: march, Now: now}, contractHeader},
		{"march-paris", Options{Month: march, Now: now, Location: paris(t)}, contractHeader},
		{"march-by-customer", Options{Month: march, Now: now, ByCustomer: true}, contractHeader + ",customer"},
		{"march-acme", Options{Month: march, Now: now, Customer: "acme"}, contractHeader},
		// Nothing counted: the header alone.
		{"january", Options{Month: Month{2026, time.January}, Now: now}, contractHeader},
		{"january-by-customer", Options{Month: Month{2026, time.January}, Now: now, ByCustomer: true}, contractHeader + ",customer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Objectives = objectives
			r, err := Build(in, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteCSV(&buf, r); err != nil {
				t.Fatal(err)
			}
			if first, _, _ := strings.Cut(buf.String(), "\n"); first != tt.header {
				t.Errorf("header %q, want %q", first, tt.header)
			}
			golden(t, tt.name+".csv.golden", buf.Bytes())

			// Every record has the header's width, the month first, and
			// the cells the contract says: 4 decimals or empty.
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			rows := len(r.Rows)
			if r.Customers != nil {
				rows = 0
				for _, c := range r.Customers {
					rows += len(c.Rows)
				}
			}
			if len(recs)-1 != rows {
				t.Errorf("%d records, want %d", len(recs)-1, rows)
			}
			for _, rec := range recs[1:] {
				if rec[0] != r.Month {
					t.Errorf("month cell %q", rec[0])
				}
				if c := rec[9]; c != "" && (len(c) != 6 || c[1] != '.') {
					t.Errorf("compliance_ratio %q is not a ratio with 4 decimals", c)
				}
				if (rec[9] == "") != (rec[5] == "0") {
					t.Errorf("compliance_ratio %q with decided %s", rec[9], rec[5])
				}
			}
		})
	}
}

// A name with a comma or a quote stays one cell.
func TestWriteCSVQuotes(t *testing.T) {
	r := &Report{Month: "2026-03", Rows: []Row{{Source: `help, "desk"`, Tier: "premium", Severity: 1, Target: "first_response"}}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	want := contractHeader + "\n" + `2026-03,"help, ""desk""",premium,1,first_response,0,0,0,0,,,,0,0,0` + "\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// 4 decimals, rounded to nearest from the exact ratio.
func TestRatioCell(t *testing.T) {
	for _, tt := range []struct {
		met, decided int
		want         string
	}{
		{2, 3, "0.6667"}, {1, 3, "0.3333"}, {12, 13, "0.9231"}, {1, 1, "1.0000"}, {0, 5, "0.0000"},
		{9999, 10000, "0.9999"}, {99999, 100000, "1.0000"}, {0, 0, ""},
	} {
		if got := ratioCell(ratio(tt.met, tt.decided)); got != tt.want {
			t.Errorf("%d/%d = %q, want %q", tt.met, tt.decided, got, tt.want)
		}
	}
}
