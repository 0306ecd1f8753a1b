package report

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// maxSheetLinks is Excel's limit of hyperlinks on one sheet; the cases
// beyond it keep their address in the url column.
const maxSheetLinks = 65530

// WriteXLSX writes the report as a workbook: "Summary" (the headline and
// the CSV's rows), "Cases" (every counted target, linked to its ticket),
// "Customers" with --by customer and "Trend" with --months. Ratios are
// numbers shown as percentages, instants are local date-times in the
// report's time zone, and counted seconds stay numbers of seconds as in
// the CSV, with the median and 90th percentile also as Excel durations.
func WriteXLSX(w io.Writer, r *Report) error {
	f := excelize.NewFile()
	defer f.Close()
	x := &xlsxWriter{f: f, r: r, loc: reportLocation(r)}
	x.newStyles()
	x.summary()
	x.cases()
	if len(r.Customers) > 0 {
		x.customers()
	}
	if len(r.Trend) > 1 {
		x.trend()
	}
	x.check(f.SetDocProps(&excelize.DocProperties{
		Title:   "SLA report " + r.Month,
		Creator: "support_sla_exporter",
		// The generation instant, not the writing one: the same report
		// gives the same workbook.
		Created:  r.Generated.UTC().Format(time.RFC3339),
		Modified: r.Generated.UTC().Format(time.RFC3339),
	}))
	if x.err != nil {
		return fmt.Errorf("writing the XLSX report: %w", x.err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("writing the XLSX report: %w", err)
	}
	return nil
}

// xlsxWriter keeps the first error of the many excelize calls, so that
// the layout reads as a list of cells.
type xlsxWriter struct {
	f   *excelize.File
	r   *Report
	loc *time.Location
	err error

	title, header, percent, datetime, duration, link int
}

func (x *xlsxWriter) check(err error) {
	if x.err == nil && err != nil {
		x.err = err
	}
}

func (x *xlsxWriter) style(s *excelize.Style) int {
	id, err := x.f.NewStyle(s)
	x.check(err)
	return id
}

func (x *xlsxWriter) newStyles() {
	format := func(f string) *string { return &f }
	x.title = x.style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	x.header = x.style(&excelize.Style{
		Font:   &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EEF1F4"}},
		Border: []excelize.Border{{Type: "bottom", Color: "AFB8C1", Style: 1}},
	})
	x.percent = x.style(&excelize.Style{CustomNumFmt: format("0.00%")})
	x.datetime = x.style(&excelize.Style{CustomNumFmt: format("yyyy-mm-dd hh:mm:ss")})
	x.duration = x.style(&excelize.Style{CustomNumFmt: format("[h]:mm:ss")})
	x.link = x.style(&excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}})
}

// xlsxColumn is one column of a table: its header and the style of its
// values (0: none).
type xlsxColumn struct {
	header string
	style  int
}

// table writes a header at row top and the rows below it, styles each
// column, fits its width, and returns the row after the last. nil and ""
// leave their cell blank, not an empty text.
func (x *xlsxWriter) table(sheet string, top int, cols []xlsxColumn, rows [][]any) int {
	widths := make([]int, len(cols))
	for i, c := range cols {
		x.set(sheet, i+1, top, c.header)
		widths[i] = len(c.header)
	}
	for j, row := range rows {
		for i, v := range row {
			if v == nil || v == "" {
				continue
			}
			x.set(sheet, i+1, top+1+j, v)
			widths[i] = max(widths[i], cellWidth(v))
		}
	}
	x.check(x.f.SetCellStyle(sheet, cellName(1, top), cellName(len(cols), top), x.header))
	for i, c := range cols {
		if c.style != 0 && len(rows) > 0 {
			x.check(x.f.SetCellStyle(sheet, cellName(i+1, top+1), cellName(i+1, top+len(rows)), c.style))
		}
		name, err := excelize.ColumnNumberToName(i + 1)
		x.check(err)
		current, err := x.f.GetColWidth(sheet, name)
		x.check(err)
		x.check(x.f.SetColWidth(sheet, name, name, max(current, float64(min(max(widths[i]+2, 8), 50)))))
	}
	return top + 1 + len(rows)
}

// filtered freezes a table's header row and puts a filter on it.
func (x *xlsxWriter) filtered(sheet string, top, ncols, nrows int) {
	x.check(x.f.SetPanes(sheet, &excelize.Panes{
		Freeze: true, YSplit: top, TopLeftCell: cellName(1, top+1), ActivePane: "bottomLeft",
	}))
	x.check(x.f.AutoFilter(sheet, cellName(1, top)+":"+cellName(ncols, top+max(nrows, 1)), nil))
}

func (x *xlsxWriter) set(sheet string, col, row int, v any) {
	x.check(x.f.SetCellValue(sheet, cellName(col, row), v))
}

func cellName(col, row int) string {
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		panic(err) // columns and rows are counted here, never read
	}
	return name
}

// cellWidth guesses the characters a value takes on screen.
func cellWidth(v any) int {
	switch v := v.(type) {
	case string:
		return len([]rune(v))
	case int:
		return len(strconv.Itoa(v))
	case int64:
		return len(strconv.FormatInt(v, 10))
	case time.Time:
		return 19
	}
	return 10
}

// cellRatio, cellSeconds, cellDays and local turn the model's optional values into
// cell values: nil leaves the cell empty.
func cellRatio(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func cellSeconds(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// cellDays is counted seconds as an Excel duration (a fraction of a day).
func cellDays(v *int64) any {
	if v == nil {
		return nil
	}
	return float64(*v) / 86400
}

func (x *xlsxWriter) local(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.In(x.loc)
}

func (x *xlsxWriter) rowCells(row Row) []any {
	return []any{
		x.r.Month, row.Source, row.Tier, row.Severity, row.Target,
		row.Decided, row.Met, row.Missed, row.Breached,
		cellRatio(row.Compliance), cellSeconds(row.MedianElapsed), cellSeconds(row.P90Elapsed),
		row.Excluded, row.NotApplicable, row.BestEffort,
	}
}

// rowColumns are the CSV's columns, the compliance as a percentage.
func (x *xlsxWriter) rowColumns() []xlsxColumn {
	cols := make([]xlsxColumn, len(csvColumns))
	for i, h := range csvColumns {
		cols[i] = xlsxColumn{header: h}
		if h == "compliance_ratio" {
			cols[i].style = x.percent
		}
	}
	return cols
}

func (x *xlsxWriter) summary() {
	const sheet = "Summary"
	x.check(x.f.SetSheetName("Sheet1", sheet))
	r := x.r
	title := "SLA report, " + longMonth(r.Month)
	if r.Customer != "" {
		title = "SLA report for " + r.Customer + ", " + longMonth(r.Month)
	}
	x.set(sheet, 1, 1, title)
	x.check(x.f.SetCellStyle(sheet, "A1", "A1", x.title))
	partial := "no"
	if r.Partial {
		partial = "yes: outcomes may still come"
	}
	meta := [][]any{
		{"month", r.Month, "time zone", r.Timezone, "as of", x.local(&r.AsOf), "partial month", partial},
		{"cases opened", r.Totals.Opened, "resolved", r.Totals.Resolved, "open at the end", r.Totals.Backlog},
	}
	if r.Customer != "" {
		meta[1] = append(meta[1], "customer", r.Customer)
	}
	for j, row := range meta {
		for i, v := range row {
			if v != nil {
				x.set(sheet, i+1, 2+j, v)
			}
		}
	}
	x.check(x.f.SetCellStyle(sheet, "F2", "F2", x.datetime))

	tiers := make([][]any, len(r.Tiers))
	for i, t := range r.Tiers {
		meets := ""
		if t.Compliance != nil && t.Objective != nil {
			meets = "no"
			if meetsObjective(*t.Compliance, *t.Objective) {
				meets = "yes"
			}
		}
		tiers[i] = []any{t.Tier, t.Decided, t.Met, cellRatio(t.Compliance), cellRatio(t.Objective), meets,
			t.Breaches[0], t.Breaches[1], t.Breaches[2], t.Breaches[3]}
	}
	next := x.table(sheet, 5, []xlsxColumn{
		{header: "tier"}, {header: "decided"}, {header: "met"},
		{header: "compliance_ratio", style: x.percent}, {header: "objective", style: x.percent},
		{header: "meets_objective"},
		{header: "breached_severity_1"}, {header: "breached_severity_2"},
		{header: "breached_severity_3"}, {header: "breached_severity_4"},
	}, tiers)

	top := next + 1
	cols := append(x.rowColumns(),
		xlsxColumn{header: "median_elapsed", style: x.duration},
		xlsxColumn{header: "p90_elapsed", style: x.duration})
	rows := make([][]any, len(r.Rows))
	for i, row := range r.Rows {
		rows[i] = append(x.rowCells(row), cellDays(row.MedianElapsed), cellDays(row.P90Elapsed))
	}
	x.table(sheet, top, cols, rows)
	x.filtered(sheet, top, len(cols), len(rows))
}

func (x *xlsxWriter) cases() {
	const sheet = "Cases"
	_, err := x.f.NewSheet(sheet)
	x.check(err)
	zone := " (" + x.r.Timezone + ")"
	cols := []xlsxColumn{
		{header: "source"}, {header: "case"}, {header: "key"}, {header: "customer"}, {header: "tier"},
		{header: "severity"}, {header: "target"}, {header: "state"},
		{header: "created" + zone, style: x.datetime}, {header: "due" + zone, style: x.datetime},
		{header: "stopped" + zone, style: x.datetime},
		{header: "goal_seconds"}, {header: "elapsed_seconds"}, {header: "url"},
	}
	rows := make([][]any, len(x.r.Cases))
	for i, c := range x.r.Cases {
		rows[i] = []any{c.Source, c.Case, c.Key, c.Customer, c.Tier, c.Severity, c.Target, c.State,
			x.local(&c.Created), x.local(c.Due), x.local(c.Stopped),
			cellSeconds(c.GoalSeconds), cellSeconds(c.ElapsedSeconds), c.URL}
	}
	x.table(sheet, 1, cols, rows)
	links := 0
	for i, c := range x.r.Cases {
		if !webLink(c.URL) || links == maxSheetLinks {
			continue
		}
		links++
		cell := cellName(2, 2+i)
		x.check(x.f.SetCellHyperLink(sheet, cell, c.URL, "External"))
		x.check(x.f.SetCellStyle(sheet, cell, cell, x.link))
	}
	x.filtered(sheet, 1, len(cols), len(rows))
}

// customers holds what the CSV holds with --by customer: its columns,
// then the customer.
func (x *xlsxWriter) customers() {
	const sheet = "Customers"
	_, err := x.f.NewSheet(sheet)
	x.check(err)
	cols := append(x.rowColumns(), xlsxColumn{header: "customer"})
	var rows [][]any
	for _, c := range x.r.Customers {
		for _, row := range c.Rows {
			rows = append(rows, append(x.rowCells(row), c.Customer))
		}
	}
	x.table(sheet, 1, cols, rows)
	x.filtered(sheet, 1, len(cols), len(rows))
}

func (x *xlsxWriter) trend() {
	const sheet = "Trend"
	_, err := x.f.NewSheet(sheet)
	x.check(err)
	var rows [][]any
	for _, m := range x.r.Trend {
		for _, t := range m.Tiers {
			rows = append(rows, []any{m.Month, t.Tier, t.Decided, t.Met, cellRatio(t.Compliance), cellRatio(t.Objective)})
		}
	}
	cols := []xlsxColumn{{header: "month"}, {header: "tier"}, {header: "decided"}, {header: "met"},
		{header: "compliance_ratio", style: x.percent}, {header: "objective", style: x.percent}}
	x.table(sheet, 1, cols, rows)
	x.filtered(sheet, 1, len(cols), len(rows))
}
