package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func renderXLSX(t *testing.T, r *Report) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("reading the workbook back: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestWriteXLSXGolden compares what a reader of the workbook sees, not
// its bytes (the zip holds timestamps): per sheet, the frozen pane, the
// filter, the column widths, and every cell as shown, with its stored
// number when that differs, strings quoted and links after an arrow.
func TestWriteXLSXGolden(t *testing.T) {
	for name, r := range renderFixtures(t) {
		t.Run(name, func(t *testing.T) {
			goldenFile(t, "xlsx-"+name+".golden", []byte(dumpXLSX(t, renderXLSX(t, r))))
		})
	}
}

func dumpXLSX(t *testing.T, f *excelize.File) string {
	t.Helper()
	var b strings.Builder
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	filters := map[string]string{}
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm._FilterDatabase" {
			filters[d.Scope] = d.RefersTo
		}
	}
	for _, sheet := range f.GetSheetList() {
		panes, err := f.GetPanes(sheet)
		must(err)
		fmt.Fprintf(&b, "== %s\nfrozen: %v above row %d, filter: %s\n", sheet, panes.Freeze, panes.YSplit+1, filters[sheet])
		rows, err := f.GetRows(sheet)
		must(err)
		width := 0
		for _, row := range rows {
			width = max(width, len(row))
		}
		var widths []string
		for c := 1; c <= width; c++ {
			name, err := excelize.ColumnNumberToName(c)
			must(err)
			w, err := f.GetColWidth(sheet, name)
			must(err)
			widths = append(widths, fmt.Sprintf("%s=%g", name, w))
		}
		fmt.Fprintf(&b, "widths: %s\n", strings.Join(widths, " "))
		for r, row := range rows {
			cells := make([]string, len(row))
			for c := range row {
				cells[c] = dumpCell(t, f, sheet, cellName(c+1, r+1))
			}
			fmt.Fprintf(&b, "%d: %s\n", r+1, strings.Join(cells, " | "))
		}
	}
	return b.String()
}

func dumpCell(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	shown, err := f.GetCellValue(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	out := shown
	switch {
	case raw == "":
		out = ""
	case typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString:
		out = strconv.Quote(shown)
	case raw != shown:
		out = shown + " (" + raw + ")"
	}
	if ok, link, err := f.GetCellHyperLink(sheet, cell); err != nil {
		t.Fatal(err)
	} else if ok {
		out += " -> " + link
	}
	return out
}

// TestXLSXCells checks the cells that make the workbook usable: numbers
// that are numbers, shown as percentages, date-times and durations, and
// links.
func TestXLSXCells(t *testing.T) {
	f := renderXLSX(t, renderFixtures(t)["full"])
	tests := []struct {
		sheet, cell, shown, raw string
	}{
		{"Summary", "A1", "SLA report, October 2026", "SLA report, October 2026"},
		{"Summary", "F2", "2026-10-31 23:59:59", "46326.9999884259"}, // as of, Paris wall clock
		{"Summary", "A6", "basic", "basic"},
		{"Summary", "D6", "71.43%", "0.714285714285714"},           // compliance
		{"Summary", "E6", "80.00%", "0.8"},                         // objective
		{"Summary", "F6", "no", "no"},                              // meets the objective
		{"Summary", "A11", "month", "month"},                       // the rows' header
		{"Summary", "J12", "100.00%", "1"},                         // compliance_ratio
		{"Summary", "K12", "5340", "5340"},                         // median_elapsed_seconds
		{"Summary", "P12", "1:29:00", "0.0618055555555555"},        // median_elapsed
		{"Cases", "B2", "4700", "4700"},                            // linked, below
		{"Cases", "I2", "2026-09-30 12:05:00", "46295.5034722222"}, // created, Paris
		{"Customers", "P2", "", ""},                                // cases without a customer
		{"Trend", "E2", "77.78%", "0.777777777777777"},             // May
		{"Cases", "C86", `<script>alert("x")</script>`, `<script>alert("x")</script>`},
	}
	for _, tt := range tests {
		t.Run(tt.sheet+"!"+tt.cell, func(t *testing.T) {
			shown, err := f.GetCellValue(tt.sheet, tt.cell)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := f.GetCellValue(tt.sheet, tt.cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if shown != tt.shown || raw != tt.raw {
				t.Errorf("%s!%s shows %q, holds %q; want %q, %q", tt.sheet, tt.cell, shown, raw, tt.shown, tt.raw)
			}
		})
	}
	if ok, link, err := f.GetCellHyperLink("Cases", "B2"); err != nil || !ok || link != "https://rt.example.com/Ticket/Display.html?id=4700" {
		t.Errorf("Cases!B2 link = %v, %q, %v; want the case's address", ok, link, err)
	}
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Summary", "Cases", "Customers", "Trend"}) {
		t.Errorf("sheets %q", got)
	}
}

// TestXLSXInert writes values a spreadsheet could take for formulas or
// links: they must stay text.
func TestXLSXInert(t *testing.T) {
	l := CaseLine{Source: "rt", Case: `=HYPERLINK("https://evil.example.com","x")`, Key: "+1+1", Customer: "@SUM(A1)",
		URL: "javascript:alert(1)", Tier: "premium", Severity: 1, Target: "first_response", State: "met",
		Created: time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC)}
	f := renderXLSX(t, &Report{Month: "2026-10", Timezone: "UTC", Cases: []CaseLine{l}})
	for cell, want := range map[string]string{"B2": l.Case, "C2": l.Key, "D2": l.Customer, "N2": l.URL} {
		formula, err := f.GetCellFormula("Cases", cell)
		if err != nil {
			t.Fatal(err)
		}
		typ, err := f.GetCellType("Cases", cell)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.GetCellValue("Cases", cell)
		if err != nil {
			t.Fatal(err)
		}
		if formula != "" || typ != excelize.CellTypeSharedString || got != want {
			t.Errorf("Cases!%s: formula %q, type %v, value %q; want the text %q", cell, formula, typ, got, want)
		}
	}
	if ok, link, _ := f.GetCellHyperLink("Cases", "B2"); ok {
		t.Errorf("Cases!B2 links to %q: only http and https links are made", link)
	}
}
