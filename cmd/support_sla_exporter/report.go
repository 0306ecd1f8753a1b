package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/report"
)

// reportFormats are the report's formats and their writers.
var reportFormats = map[string]func(io.Writer, *report.Report) error{
	"csv":  report.WriteCSV,
	"json": report.WriteJSON,
	"html": report.WriteHTML,
	"xlsx": report.WriteXLSX,
}

type reportCmd struct {
	month    monthFlag
	format   string
	out      string
	by       string
	customer string
	months   int
	timezone zoneFlag
}

func newReportCmd(k *kingpin.Application, a *app) *kingpin.CmdClause {
	r := &a.reportArgs
	c := k.Command("report", "Write the monthly SLA report: the outcomes decided in a month, per source, tier, severity and target.")
	c.Flag("month", "The month, YYYY-MM, in --timezone; default the previous month.").PlaceHolder("YYYY-MM").SetValue(&r.month)
	c.Flag("format", "Output format: csv, json, html or xlsx; default that of --out's extension, else csv.").PlaceHolder("FORMAT").
		SetValue(&choiceFlag{flag: "--format", v: &r.format, choices: []string{"csv", "json", "html", "xlsx"}})
	c.Flag("out", "Write to this file (replaced whole, never left half-written); default standard output.").PlaceHolder("FILE").StringVar(&r.out)
	c.Flag("by", "Add the figures per customer: --by customer.").PlaceHolder("customer").
		SetValue(&choiceFlag{flag: "--by", v: &r.by, choices: []string{"customer"}})
	c.Flag("customer", "One customer's own report: only the cases of this customer.").PlaceHolder("NAME").StringVar(&r.customer)
	c.Flag("months", "Add the compliance of this many months before, for the trend.").Default("0").IntVar(&r.months)
	c.Flag("timezone", "The IANA time zone months are taken in, e.g. Europe/Paris; default UTC.").Default("UTC").PlaceHolder("ZONE").SetValue(&r.timezone)
	return c
}

// monthFlag is --month.
type monthFlag struct {
	m   report.Month
	set bool
}

func (f *monthFlag) Set(s string) error {
	m, err := report.ParseMonth(s)
	if err != nil {
		return fmt.Errorf("--month: %w", err)
	}
	f.m, f.set = m, true
	return nil
}

func (f *monthFlag) String() string {
	if !f.set {
		return ""
	}
	return f.m.String()
}

// choiceFlag is a flag with a few allowed values; its error names the
// flag, which kingpin's enums do not.
type choiceFlag struct {
	flag    string
	v       *string
	choices []string
}

func (f *choiceFlag) Set(s string) error {
	if !slices.Contains(f.choices, s) {
		return fmt.Errorf("%s: %q is not one of %s", f.flag, s, strings.Join(f.choices, ", "))
	}
	*f.v = s
	return nil
}

func (f *choiceFlag) String() string { return *f.v }

// zoneFlag is --timezone.
type zoneFlag struct{ loc *time.Location }

func (f *zoneFlag) Set(s string) error {
	loc, err := time.LoadLocation(s)
	if err != nil || s == "" || s == "Local" {
		return fmt.Errorf("--timezone: %q is not a time zone: name an IANA zone such as UTC or Europe/Paris", s)
	}
	f.loc = loc
	return nil
}

func (f *zoneFlag) String() string {
	if f.loc == nil {
		return "UTC"
	}
	return f.loc.String()
}

func (a *app) report(ctx context.Context) int {
	args := &a.reportArgs
	format := args.format
	if format == "" {
		format = formatOf(args.out)
	}
	write := reportFormats[format]
	if args.months < 0 || args.months > 120 {
		fmt.Fprintf(a.stderr, "%s: --months: %d is not between 0 and 120 (see --help)\n", program, args.months)
		return 2
	}
	loc := args.timezone.loc
	if loc == nil {
		loc = time.UTC
	}
	now := a.now()
	month := args.month.m
	if !args.month.set {
		month = report.MonthOf(now, loc).Add(-1)
	}
	from, to := month.Bounds(loc)
	if now.Before(from) {
		fmt.Fprintf(a.stderr, "%s: --month %s has not begun: it starts %s (see --help)\n", program, month, from.Format(time.RFC3339))
		return 2
	}
	cfg, err := a.loadConfig()
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return 1
	}

	// Every case open at some time from the first month of the trend to
	// the end of this one, read again from each source.
	first, _ := month.Add(-args.months).Bounds(loc)
	in, err := a.window(ctx, cfg, first, to)
	if err != nil {
		fmt.Fprintf(a.stderr, "%s: %v\n", program, err)
		return 1
	}
	r, err := report.Build(in, report.Options{
		Month: month, Location: loc, Now: now,
		ByCustomer: args.by == "customer", Customer: args.customer, Months: args.months,
		Objectives: cfg.Report.Objectives,
	})
	if err != nil {
		fmt.Fprintf(a.stderr, "%s: %v\n", program, err)
		return 1
	}
	if args.customer != "" && len(r.Cases) == 0 && r.Totals == (report.Totals{}) {
		a.logger.Warn("No case of this customer in the month", "customer", args.customer, "month", r.Month)
	}
	if r.Partial {
		a.logger.Info("The month is not over: the report is as of now, and more outcomes may come", "month", r.Month, "as_of", r.AsOf.Format(time.RFC3339))
	}

	// Rendered whole first: a failure leaves no half report behind.
	var buf bytes.Buffer
	if err := write(&buf, r); err != nil {
		fmt.Fprintf(a.stderr, "%s: writing the %s report: %v\n", program, format, err)
		return 1
	}
	if args.out == "" {
		if _, err := a.stdout.Write(buf.Bytes()); err != nil {
			fmt.Fprintf(a.stderr, "%s: %v\n", program, err)
			return 1
		}
		return 0
	}
	if err := writeFileAtomic(args.out, buf.Bytes()); err != nil {
		fmt.Fprintf(a.stderr, "%s: %v\n", program, err)
		return 1
	}
	a.logger.Info("Wrote the report", "file", args.out, "format", format, "month", r.Month)
	return 0
}

// formatOf is the format a file name's extension says, csv by default.
func formatOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "json"
	case ".html", ".htm":
		return "html"
	case ".xlsx":
		return "xlsx"
	}
	return "csv"
}

// window reads every source's cases open at some time in [from, to). One
// failing source fails the report: without its cases every figure would
// be wrong, and nothing would say so.
func (a *app) window(ctx context.Context, cfg *config.Config, from, to time.Time) (report.Input, error) {
	var in report.Input
	for _, s := range cfg.Sources {
		cases, err := s.Source.Window(ctx, from, to)
		if err != nil {
			return report.Input{}, fmt.Errorf("source %s: reading the cases of %s to %s: %w; no report is written without it",
				s.Name, from.Format(time.DateOnly), to.Add(-time.Second).Format(time.DateOnly), err)
		}
		unknown := 0
		for i := range cases {
			if s.Evaluator.Policy.Tiers[s.Evaluator.Tier(&cases[i])] == nil {
				unknown++
			}
		}
		if unknown > 0 {
			a.logger.Warn("Cases with a tier their policy does not have are left out of the report", "source_name", s.Name, "count", unknown, "policy", s.Evaluator.Policy.Name)
		}
		a.logger.Debug("Read the cases", "source_name", s.Name, "cases", len(cases))
		in.Sources = append(in.Sources, report.Source{Name: s.Name, Evaluator: s.Evaluator, Cases: cases})
	}
	return in, nil
}

// writeFileAtomic replaces path with data through a temporary file in the
// same folder and a rename: a reader sees the old file or the new one,
// never half of one.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	// A report is for sharing: not CreateTemp's owner-only 0600.
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
