package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed html.tmpl
var htmlText string

// htmlTemplate is parsed once: a broken template is a programming error
// that every test run catches.
var htmlTemplate = template.Must(template.New("report").Parse(htmlText))

// WriteHTML writes the report as one self-contained page: inline CSS,
// charts drawn here as inline SVG, no script and nothing fetched, so it
// can be mailed, archived and printed to A4 as it is.
func WriteHTML(w io.Writer, r *Report) error {
	// Rendered whole first: an error must not leave half a page behind.
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, newHTMLPage(r)); err != nil {
		return fmt.Errorf("rendering the HTML report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// htmlPage is everything the template shows, already worded and laid
// out: the template only places it.
type htmlPage struct {
	Title, Month, Timezone string
	AsOf, Generated, End   string
	Partial                bool
	Customer               string
	// Empty is a month without a single case: one clear sentence instead
	// of empty charts.
	Empty      bool
	Totals     Totals
	Cards      []tierCard
	Decided    bool // any outcome decided, over every tier
	Charts     []*chart
	Trend      *trendTable
	TrendChart *chart
	Rows       []rowView
	Apart      []apartRow
	ApartSum   apartRow
	Worst      []caseView
	Customers  []customerView
}

type tierCard struct {
	Tier, Compliance, Objective string
	Met, Decided                int
	// Status is the CSS class: above, below, none (no objective) or
	// nodata (nothing decided).
	Status, Verdict string
}

type rowView struct {
	Source, Tier, Target             string
	Severity                         int
	Decided, Met, Missed, Breached   int
	Compliance, Median, P90          string
	Below                            bool
	Excluded, NotApplicable, BestEff int
}

// apartRow is one tier and target's targets that no compliance counts.
type apartRow struct {
	Tier, Target                     string
	Excluded, NotApplicable, BestEff int
}

type caseView struct {
	Label, URL, Customer, Source, Tier, Target, State string
	Severity                                          int
	Elapsed, Goal, Over, Due                          string
}

type customerView struct {
	Name   string
	Totals Totals
	Cards  []tierCard
	Rows   []rowView
}

type trendTable struct {
	Months []string
	Tiers  []trendRow
}

type trendRow struct {
	Tier, Objective string
	Cells           []string
}

// htmlBuilder holds what every part of the page formats with.
type htmlBuilder struct {
	r      *Report
	loc    *time.Location
	colors map[string]int // tier → palette index, the same in every chart
}

func newHTMLPage(r *Report) *htmlPage {
	b := &htmlBuilder{r: r, loc: reportLocation(r), colors: map[string]int{}}
	// Colours go to the tiers that a chart draws, this month's first, so
	// that the few there are stay far apart.
	for _, tiers := range append([][]TierSummary{r.Tiers}, trendTiers(r.Trend)...) {
		for _, t := range tiers {
			if t.Compliance != nil {
				b.color(t.Tier)
			}
		}
	}
	p := &htmlPage{
		Month:    longMonth(r.Month),
		Timezone: cmp.Or(r.Timezone, b.loc.String()),
		AsOf:     b.when(r.AsOf),
		End:      b.when(r.To),
		Partial:  r.Partial,
		Customer: r.Customer,
		Totals:   r.Totals,
		Empty:    len(r.Rows) == 0 && len(r.Cases) == 0 && r.Totals == Totals{},
	}
	if !r.Generated.IsZero() {
		p.Generated = b.when(r.Generated)
	}
	p.Title = "SLA report, " + p.Month
	if r.Customer != "" {
		p.Title = "SLA report for " + r.Customer + ", " + p.Month
	}
	if len(r.Trend) > 1 {
		p.Trend = b.trendTable()
	}
	if p.Trend != nil {
		p.TrendChart = b.trendChart()
	}
	if p.Empty {
		return p
	}
	p.Cards = b.cards(r.Tiers)
	for _, t := range r.Tiers {
		p.Decided = p.Decided || t.Decided > 0
	}
	if p.Decided {
		p.Charts = append(p.Charts, b.complianceChart())
		if c := b.breachChart(); c != nil {
			p.Charts = append(p.Charts, c)
		}
	}
	p.Rows = b.rows(r.Rows, r.Tiers)
	p.Apart, p.ApartSum = apart(r.Rows)
	for _, c := range r.Worst {
		p.Worst = append(p.Worst, b.caseLine(c))
	}
	for _, c := range r.Customers {
		name := c.Customer
		if name == "" {
			name = "Cases without a customer"
		}
		p.Customers = append(p.Customers, customerView{Name: name, Totals: c.Totals, Cards: b.cards(c.Tiers), Rows: b.rows(c.Rows, c.Tiers)})
	}
	return p
}

func trendTiers(months []MonthSummary) [][]TierSummary {
	var out [][]TierSummary
	for _, m := range months {
		out = append(out, m.Tiers)
	}
	return out
}

func (b *htmlBuilder) color(tier string) int {
	if i, ok := b.colors[tier]; ok {
		return i
	}
	i := len(b.colors) % paletteSize
	b.colors[tier] = i
	return i
}

// when writes an instant in the report's time zone, with its seconds only
// when there are some (the month's last second, 23:59:59).
func (b *htmlBuilder) when(t time.Time) string {
	t = t.In(b.loc)
	if t.Second() != 0 {
		return t.Format("2 Jan 2006 15:04:05 MST")
	}
	return t.Format("2 Jan 2006 15:04 MST")
}

func (b *htmlBuilder) cards(tiers []TierSummary) []tierCard {
	var out []tierCard
	for _, t := range tiers {
		c := tierCard{Tier: t.Tier, Met: t.Met, Decided: t.Decided, Compliance: "–", Objective: "none"}
		if t.Objective != nil {
			c.Objective = htmlPercent(*t.Objective, -1)
		}
		switch {
		case t.Compliance == nil:
			c.Status, c.Verdict = "nodata", "No outcome decided"
		case t.Objective == nil:
			c.Compliance = htmlPercent(*t.Compliance, 1)
			c.Status, c.Verdict = "none", "No objective set"
		default:
			c.Compliance = htmlPercent(*t.Compliance, 1)
			diff := (*t.Compliance - *t.Objective) * 100
			if meetsObjective(*t.Compliance, *t.Objective) {
				c.Status = "above"
				c.Verdict = fmt.Sprintf("✓ Meets the %s objective (%.1f pts above)", c.Objective, math.Abs(diff))
			} else {
				c.Status = "below"
				c.Verdict = fmt.Sprintf("✗ Below the %s objective (%.1f pts short)", c.Objective, math.Abs(diff))
			}
		}
		out = append(out, c)
	}
	return out
}

// meetsObjective compares with a little slack: 19/20 must meet a 0.95 objective
// whatever the rounding of either.
func meetsObjective(compliance, objective float64) bool { return compliance >= objective-1e-9 }

func (b *htmlBuilder) rows(rows []Row, tiers []TierSummary) []rowView {
	objective := map[string]float64{}
	for _, t := range tiers {
		if t.Objective != nil {
			objective[t.Tier] = *t.Objective
		}
	}
	var out []rowView
	for _, r := range rows {
		// A row that decided nothing only counts targets apart: the
		// "counted apart" table shows those.
		if r.Decided == 0 {
			continue
		}
		v := rowView{
			Source: r.Source, Tier: r.Tier, Severity: r.Severity, Target: htmlTarget(r.Target),
			Decided: r.Decided, Met: r.Met, Missed: r.Missed, Breached: r.Breached,
			Compliance: "–", Median: "–", P90: "–",
			Excluded: r.Excluded, NotApplicable: r.NotApplicable, BestEff: r.BestEffort,
		}
		if r.Compliance != nil {
			v.Compliance = htmlPercent(*r.Compliance, 1)
			o, ok := objective[r.Tier]
			v.Below = ok && !meetsObjective(*r.Compliance, o)
		}
		if r.MedianElapsed != nil {
			v.Median = humanSeconds(*r.MedianElapsed)
		}
		if r.P90Elapsed != nil {
			v.P90 = humanSeconds(*r.P90Elapsed)
		}
		out = append(out, v)
	}
	return out
}

// apart sums the targets counted apart per tier and target: the
// detail per source and severity is in the CSV and the XLSX.
func apart(rows []Row) ([]apartRow, apartRow) {
	var out []apartRow
	var sum apartRow
	index := map[[2]string]int{}
	for _, r := range rows {
		if r.Excluded+r.NotApplicable+r.BestEffort == 0 {
			continue
		}
		k := [2]string{r.Tier, r.Target}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, apartRow{Tier: r.Tier, Target: htmlTarget(r.Target)})
		}
		out[i].Excluded += r.Excluded
		out[i].NotApplicable += r.NotApplicable
		out[i].BestEff += r.BestEffort
		sum.Excluded += r.Excluded
		sum.NotApplicable += r.NotApplicable
		sum.BestEff += r.BestEffort
	}
	slices.SortStableFunc(out, func(a, b apartRow) int { return cmp.Or(cmp.Compare(a.Tier, b.Tier), cmp.Compare(a.Target, b.Target)) })
	return out, sum
}

func (b *htmlBuilder) caseLine(c CaseLine) caseView {
	v := caseView{
		Label: c.Key, Customer: c.Customer, Source: c.Source, Tier: c.Tier, Severity: c.Severity,
		Target: htmlTarget(c.Target), State: strings.ReplaceAll(c.State, "_", " "),
		Elapsed: "–", Goal: "–", Over: "–", Due: "–",
	}
	if v.Label == "" {
		v.Label = c.Case
	}
	if webLink(c.URL) {
		v.URL = c.URL
	}
	if c.ElapsedSeconds != nil {
		v.Elapsed = humanSeconds(*c.ElapsedSeconds)
	}
	if c.GoalSeconds != nil {
		v.Goal = humanSeconds(*c.GoalSeconds)
		if c.ElapsedSeconds != nil && *c.GoalSeconds > 0 {
			v.Over = fmt.Sprintf("%.1f×", float64(*c.ElapsedSeconds)/float64(*c.GoalSeconds))
		}
	}
	if c.Due != nil {
		v.Due = b.when(*c.Due)
	}
	return v
}

// webLink keeps only http and https links: a ticket address is never
// anything else, and html/template would turn a javascript: one into a
// dead "#ZgotmplZ" link anyway.
func webLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (b *htmlBuilder) trendTable() *trendTable {
	t := &trendTable{}
	index := map[string]int{}
	for i, m := range b.r.Trend {
		t.Months = append(t.Months, shortMonth(m.Month, i == 0))
		for _, s := range m.Tiers {
			j, ok := index[s.Tier]
			if !ok {
				j = len(t.Tiers)
				index[s.Tier] = j
				t.Tiers = append(t.Tiers, trendRow{Tier: s.Tier, Objective: "none", Cells: make([]string, len(b.r.Trend))})
			}
			if s.Objective != nil {
				t.Tiers[j].Objective = htmlPercent(*s.Objective, -1)
			}
			if s.Compliance != nil {
				t.Tiers[j].Cells[i] = htmlPercent(*s.Compliance, 1)
			}
		}
	}
	// A tier that never decided anything (best effort only) is a row of
	// dashes: left out, as from the chart.
	t.Tiers = slices.DeleteFunc(t.Tiers, func(row trendRow) bool {
		return !slices.ContainsFunc(row.Cells, func(c string) bool { return c != "" })
	})
	for _, row := range t.Tiers {
		for i, c := range row.Cells {
			if c == "" {
				row.Cells[i] = "–"
			}
		}
	}
	return t
}

// htmlPercent writes a ratio as a percentage with the given decimals, or as
// few as it needs with -1 (objectives: 95%, 99.5%).
func htmlPercent(ratio float64, decimals int) string {
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
		return "–"
	}
	if decimals < 0 {
		return strconv.FormatFloat(math.Round(ratio*1e4)/1e2, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(ratio*100, 'f', decimals, 64) + "%"
}

// humanSeconds writes counted seconds the way people say them: 2d 4h,
// 3h 20m, 45m, 30s.
func humanSeconds(s int64) string {
	sign := ""
	if s < 0 {
		sign, s = "-", -s
	}
	d, h, m := s/86400, s/3600%24, s/60%60
	var out string
	switch {
	case d > 0 && h > 0:
		out = fmt.Sprintf("%dd %dh", d, h)
	case d > 0:
		out = fmt.Sprintf("%dd", d)
	case h > 0 && m > 0:
		out = fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		out = fmt.Sprintf("%dh", h)
	case m > 0:
		out = fmt.Sprintf("%dm", m)
	default:
		out = fmt.Sprintf("%ds", s)
	}
	return sign + out
}

func htmlTarget(t string) string { return strings.ReplaceAll(t, "_", " ") }

// reportLocation is the report's time zone, else the zone its instants
// carry (a report read back from JSON has fixed offsets).
func reportLocation(r *Report) *time.Location {
	if loc, err := time.LoadLocation(r.Timezone); err == nil && r.Timezone != "" {
		return loc
	}
	return r.AsOf.Location()
}

// longMonth writes "2026-10" as "October 2026".
func longMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("January 2006")
}

// shortMonth writes "2026-10" as "Oct", with the year on the first month
// and on January, so that a trend axis stays short.
func shortMonth(m string, first bool) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	if first || t.Month() == time.January {
		return t.Format("Jan 2006")
	}
	return t.Format("Jan")
}

// paletteSize is the number of tier colours (Okabe–Ito, safe for colour
// blindness and in print, green and red left to met and missed);
// html.tmpl defines the classes f0…f5, s0…s5.
const paletteSize = 6

// chart is an inline SVG drawn in a viewBox of W×H units: the page scales
// it to its width on screen and on paper. Its parts are drawn in the
// order of the fields, texts last so that nothing hides them.
type chart struct {
	ID, Title, Desc string
	W, H            int
	Grid            []svgLine
	Rects           []svgRect
	Marks           []svgLine
	Polylines       []svgPolyline
	Circles         []svgCircle
	Texts           []svgText
}

type svgLine struct{ X1, Y1, X2, Y2, Class string }

type svgRect struct{ X, Y, W, H, Class, Title string }

type svgPolyline struct{ Points, Class string }

type svgCircle struct{ X, Y, Class, Title string }

type svgText struct{ X, Y, Anchor, Class, Text string }

// svgNum writes a coordinate; the inputs are finite by construction, the
// guard keeps a NaN out of the page whatever happens.
func svgNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

func svgLineAt(x1, y1, x2, y2 float64, class string) svgLine {
	return svgLine{svgNum(x1), svgNum(y1), svgNum(x2), svgNum(y2), class}
}

func svgRectAt(x, y, w, h float64, class, title string) svgRect {
	return svgRect{svgNum(x), svgNum(y), svgNum(w), svgNum(h), class, title}
}

func svgTextAt(x, y float64, anchor, class, s string) svgText {
	return svgText{svgNum(x), svgNum(y), anchor, class, s}
}

// legendItem is one entry of a chart's legend: a swatch (a box, or a
// line when Line) and its words.
type legendItem struct {
	Class, Text string
	Line        bool
}

// legend lays the items out in rows from (x, y), guessing text widths
// from the font size (13 units), and returns the y below it.
func (c *chart) legend(x0, y float64, items []legendItem) float64 {
	x := x0
	for _, it := range items {
		width := 22 + float64(len([]rune(it.Text)))*7.2 + 18
		if x > x0 && x+width > float64(c.W) {
			x, y = x0, y+20
		}
		if it.Line {
			c.Marks = append(c.Marks, svgLineAt(x, y-4, x+16, y-4, it.Class))
		} else {
			c.Rects = append(c.Rects, svgRectAt(x, y-12, 14, 12, it.Class, ""))
		}
		c.Texts = append(c.Texts, svgTextAt(x+22, y, "start", "legend", it.Text))
		x += width
	}
	return y + 8
}

// complianceChart draws a horizontal bar per tier, its length the share
// of decided targets met, with the tier's objective as a black mark.
func (b *htmlBuilder) complianceChart() *chart {
	const w, left, plot, rowH, barH, top = 560.0, 100.0, 330.0, 34.0, 20.0, 10.0
	tiers := b.r.Tiers
	c := &chart{ID: "chart-compliance", Title: "Compliance by tier", W: int(w)}
	axisY := top + float64(len(tiers))*rowH
	for _, p := range []float64{0, .25, .5, .75, 1} {
		x := left + p*plot
		c.Grid = append(c.Grid, svgLineAt(x, top-4, x, axisY, "grid"))
		c.Texts = append(c.Texts, svgTextAt(x, axisY+16, "middle", "axis", htmlPercent(p, 0)))
	}
	var desc []string
	for i, t := range tiers {
		y := top + float64(i)*rowH + (rowH-barH)/2
		base := y + barH/2 + 4.5
		c.Texts = append(c.Texts, svgTextAt(left-8, base, "end", "label", clip(t.Tier, 12)))
		if t.Compliance == nil {
			c.Texts = append(c.Texts, svgTextAt(left+6, base, "start", "muted", "no outcome decided"))
			desc = append(desc, t.Tier+": no outcome decided")
			continue
		}
		class, value := "bar-none", htmlPercent(*t.Compliance, 1)
		summary := fmt.Sprintf("%s: %s met (%d of %d)", t.Tier, value, t.Met, t.Decided)
		if o := t.Objective; o != nil {
			class = "bar-below"
			if meetsObjective(*t.Compliance, *o) {
				class = "bar-above"
			}
			x := left + *o*plot
			c.Marks = append(c.Marks, svgLineAt(x, y-5, x, y+barH+5, "objective"))
			value += " / " + htmlPercent(*o, -1)
			summary += ", objective " + htmlPercent(*o, -1)
		}
		c.Rects = append(c.Rects, svgRectAt(left, y, *t.Compliance*plot, barH, class, summary))
		c.Texts = append(c.Texts, svgTextAt(left+plot+10, base, "start", "value", value))
		desc = append(desc, summary)
	}
	end := c.legend(left, axisY+44, []legendItem{
		{Class: "bar-above", Text: "meets its objective"},
		{Class: "bar-below", Text: "below its objective"},
		{Class: "bar-none", Text: "no objective"},
		{Class: "objective", Text: "objective", Line: true},
	})
	c.H = int(end)
	c.Desc = "Share of the targets decided this month that were met, per tier. " + strings.Join(desc, "; ") + "."
	return c
}

// breachChart draws a bar per case severity, stacked by tier: the
// targets missed or breached. Nil when there are none.
func (b *htmlBuilder) breachChart() *chart {
	const w, left, right, top, plotH, barW = 560.0, 36.0, 8.0, 24.0, 150.0, 60.0
	var totals [4]int
	highest := 0
	for _, t := range b.r.Tiers {
		for s, n := range t.Breaches {
			totals[s] += n
			highest = max(highest, totals[s])
		}
	}
	if highest == 0 {
		return nil
	}
	// A floor of 5 keeps one breach from filling the whole height.
	step := niceStep(max(highest, 5))
	ceiling := (max(highest, 5) + step - 1) / step * step
	scale := plotH / float64(ceiling)
	axisY := top + plotH
	c := &chart{ID: "chart-breaches", Title: "Missed and breached targets by case severity", W: int(w)}
	for v := 0; v <= ceiling; v += step {
		y := axisY - float64(v)*scale
		c.Grid = append(c.Grid, svgLineAt(left, y, w-right, y, "grid"))
		c.Texts = append(c.Texts, svgTextAt(left-6, y+4, "end", "axis", strconv.Itoa(v)))
	}
	groupW := (w - left - right) / 4
	var desc []string
	var legend []legendItem
	for s := range 4 {
		x := left + float64(s)*groupW + (groupW-barW)/2
		y := axisY
		for _, t := range b.r.Tiers {
			n := t.Breaches[s]
			if n == 0 {
				continue
			}
			h := float64(n) * scale
			y -= h
			class := fmt.Sprintf("seg f%d", b.color(t.Tier))
			c.Rects = append(c.Rects, svgRectAt(x, y, barW, h, class, fmt.Sprintf("%s, severity %d: %d", t.Tier, s+1, n)))
		}
		c.Texts = append(c.Texts, svgTextAt(x+barW/2, axisY+18, "middle", "label", fmt.Sprintf("Severity %d", s+1)))
		if totals[s] > 0 {
			c.Texts = append(c.Texts, svgTextAt(x+barW/2, y-6, "middle", "value", strconv.Itoa(totals[s])))
		}
		desc = append(desc, fmt.Sprintf("severity %d: %d", s+1, totals[s]))
	}
	for _, t := range b.r.Tiers {
		if t.Breaches != [4]int{} {
			legend = append(legend, legendItem{Class: fmt.Sprintf("f%d", b.color(t.Tier)), Text: clip(t.Tier, 28)})
		}
	}
	c.H = int(c.legend(left, axisY+46, legend))
	c.Desc = "Targets missed or breached this month, by the case's severity (1 is the most urgent), stacked by tier: " + strings.Join(desc, "; ") + "."
	return c
}

// clip shortens a name to n characters for a chart's narrow margin; the
// tables beside the charts hold it whole.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// niceStep is an axis step of 1, 2 or 5 times a power of ten that cuts
// [0, highest] into at most five intervals.
func niceStep(highest int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if highest <= 5*m*p {
				return m * p
			}
		}
	}
}

// trendChart draws a line per tier over the months of the trend, a gap
// where a month decided nothing, and each objective as a dashed line.
func (b *htmlBuilder) trendChart() *chart {
	const w, left, right, top, plotH, inset = 560.0, 44.0, 8.0, 12.0, 190.0, 26.0
	months := b.r.Trend
	type series struct {
		tier      string
		objective *float64
		points    []*TierSummary
	}
	var all []*series
	index := map[string]*series{}
	lowest := 1.0
	for i, m := range months {
		for _, t := range m.Tiers {
			s := index[t.Tier]
			if s == nil {
				s = &series{tier: t.Tier, points: make([]*TierSummary, len(months))}
				index[t.Tier] = s
				all = append(all, s)
			}
			if t.Compliance != nil {
				s.points[i] = &t
				lowest = min(lowest, *t.Compliance)
			}
			if t.Objective != nil {
				s.objective = t.Objective
			}
		}
	}
	for _, s := range all {
		if s.objective != nil && anyPoint(s.points) {
			lowest = min(lowest, *s.objective)
		}
	}
	// The axis starts at a round percentage below the lowest value: a
	// 0–100% axis would squash 90–100%, where the months differ.
	stepP := 10
	loP := int(math.Floor((lowest-0.02)*10)) * 10
	if 100-loP > 50 {
		stepP = 20
		loP = loP / 20 * 20
	}
	loP = max(0, min(90, loP))
	lo := float64(loP) / 100
	y := func(v float64) float64 { return top + (1-v)/(1-lo)*plotH }
	plotW := w - left - right
	// The first and last months stand off the axes, clear of their labels.
	x := func(i int) float64 { return left + inset + float64(i)*(plotW-2*inset)/float64(len(months)-1) }
	axisY := top + plotH
	c := &chart{ID: "chart-trend", Title: "Compliance by month and tier", W: int(w)}
	for p := loP; p <= 100; p += stepP {
		v := float64(p) / 100
		c.Grid = append(c.Grid, svgLineAt(left, y(v), w-right, y(v), "grid"))
		c.Texts = append(c.Texts, svgTextAt(left-6, y(v)+4, "end", "axis", strconv.Itoa(p)+"%"))
	}
	for i, m := range months {
		c.Texts = append(c.Texts, svgTextAt(x(i), axisY+18, "middle", "axis", shortMonth(m.Month, i == 0)))
	}
	var legend []legendItem
	var desc []string
	for _, s := range all {
		if !anyPoint(s.points) {
			continue
		}
		color := b.color(s.tier)
		legend = append(legend, legendItem{Class: fmt.Sprintf("trend s%d", color), Text: clip(s.tier, 28), Line: true})
		if s.objective != nil {
			c.Marks = append(c.Marks, svgLineAt(left, y(*s.objective), w-right, y(*s.objective), fmt.Sprintf("goal s%d", color)))
		}
		var run []string
		flush := func() {
			if len(run) > 1 {
				c.Polylines = append(c.Polylines, svgPolyline{Points: strings.Join(run, " "), Class: fmt.Sprintf("trend s%d", color)})
			}
			run = nil
		}
		var words []string
		for i, p := range s.points {
			if p == nil {
				flush()
				words = append(words, longMonth(months[i].Month)+" none")
				continue
			}
			run = append(run, svgNum(x(i))+","+svgNum(y(*p.Compliance)))
			title := fmt.Sprintf("%s, %s: %s (%d of %d met)", s.tier, longMonth(months[i].Month), htmlPercent(*p.Compliance, 1), p.Met, p.Decided)
			c.Circles = append(c.Circles, svgCircle{X: svgNum(x(i)), Y: svgNum(y(*p.Compliance)), Class: fmt.Sprintf("f%d", color), Title: title})
			words = append(words, longMonth(months[i].Month)+" "+htmlPercent(*p.Compliance, 1))
		}
		flush()
		desc = append(desc, s.tier+": "+strings.Join(words, ", "))
	}
	legend = append(legend, legendItem{Class: "goal sample", Text: "objective (dashed)", Line: true})
	c.H = int(c.legend(left, axisY+46, legend))
	c.Desc = "Share of decided targets met, per month and tier, oldest first. " + strings.Join(desc, "; ") + "."
	return c
}

func anyPoint(points []*TierSummary) bool {
	for _, p := range points {
		if p != nil {
			return true
		}
	}
	return false
}
