package report

import (
	"encoding/csv"
	"io"
	"strconv"
)

// csvColumns are the contract's columns (interfaces.md), in order.
var csvColumns = []string{
	"month", "source", "tier", "severity", "target", "decided", "met", "missed", "breached",
	"compliance_ratio", "median_elapsed_seconds", "p90_elapsed_seconds",
	"excluded", "not_applicable", "best_effort",
}

// WriteCSV writes the report's rows, one per source, tier, severity and
// target, under the contract's columns. A report built with ByCustomer
// (Customers non-nil) has one row per customer row instead, with a
// customer column after the contract's: scripts reading the columns by
// position still work.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	header := csvColumns
	if r.Customers != nil {
		header = append(header[:len(header):len(header)], "customer")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	write := func(row *Row, customer ...string) error {
		return cw.Write(append([]string{
			r.Month, row.Source, row.Tier, strconv.Itoa(row.Severity), row.Target,
			strconv.Itoa(row.Decided), strconv.Itoa(row.Met), strconv.Itoa(row.Missed), strconv.Itoa(row.Breached),
			ratioCell(row.Compliance), secondsCell(row.MedianElapsed), secondsCell(row.P90Elapsed),
			strconv.Itoa(row.Excluded), strconv.Itoa(row.NotApplicable), strconv.Itoa(row.BestEffort),
		}, customer...))
	}
	if r.Customers != nil {
		for _, c := range r.Customers {
			for i := range c.Rows {
				if err := write(&c.Rows[i], c.Customer); err != nil {
					return err
				}
			}
		}
	} else {
		for i := range r.Rows {
			if err := write(&r.Rows[i]); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// ratioCell is a ratio with 4 decimals, empty when there is none.
func ratioCell(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 4, 64)
}

func secondsCell(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}
