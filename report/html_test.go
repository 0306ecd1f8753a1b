package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the fixtures name Europe/Paris

	"golang.org/x/net/html"
)

func init() {
	// golden_test.go defines -update for the package; this keeps these
	// tests whole should it go or be renamed.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

// updateGolden tells whether -update was given.
func updateGolden() bool {
	return flag.Lookup("update").Value.(flag.Getter).Get().(bool)
}

// renderFixtures are the reports the HTML and XLSX tests render: the
// month of testdata/render-report.json (a consistent report built from
// 100 synthetic cases, with a case key carrying a <script>) and variants
// of it.
func renderFixtures(t *testing.T) map[string]*Report {
	t.Helper()
	full := loadRenderReport(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}

	// One customer's own report, in the middle of its month.
	partial := loadRenderReport(t)
	acme := partial.Customers[slices.IndexFunc(partial.Customers, func(c CustomerReport) bool { return c.Customer == "acme" })]
	partial.Customer, partial.Partial = "acme", true
	partial.AsOf = time.Date(2026, 10, 15, 14, 30, 0, 0, paris)
	partial.Generated = partial.AsOf
	partial.Rows, partial.Tiers, partial.Totals, partial.Customers = acme.Rows, acme.Tiers, acme.Totals, nil
	partial.Worst = slices.DeleteFunc(partial.Worst, func(c CaseLine) bool { return c.Customer != "acme" })
	partial.Cases = slices.DeleteFunc(partial.Cases, func(c CaseLine) bool { return c.Customer != "acme" })
	partial.Trend = partial.Trend[len(partial.Trend)-1:] // one month: no trend

	// A month whose cases decided nothing: only targets counted apart.
	undecided := loadRenderReport(t)
	undecided.Rows = slices.DeleteFunc(undecided.Rows, func(r Row) bool { return r.Tier != "free" })
	undecided.Tiers = slices.DeleteFunc(undecided.Tiers, func(s TierSummary) bool { return s.Tier != "free" })
	undecided.Cases = slices.DeleteFunc(undecided.Cases, func(c CaseLine) bool { return c.Tier != "free" })
	undecided.Worst, undecided.Customers, undecided.Trend = nil, nil, nil
	undecided.Totals = Totals{Opened: 9, Resolved: 7, Backlog: 2}

	// A month without a case.
	empty := &Report{
		Month: "2026-11", Timezone: "Europe/Paris",
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, paris), To: time.Date(2026, 12, 1, 0, 0, 0, 0, paris),
		AsOf:      time.Date(2026, 11, 30, 23, 59, 59, 0, paris),
		Generated: time.Date(2026, 12, 1, 9, 0, 0, 0, paris),
	}
	return map[string]*Report{"full": full, "partial": partial, "undecided": undecided, "empty": empty}
}

func loadRenderReport(t *testing.T) *Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "render-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// goldenFile compares got with testdata/name, or rewrites it with
// -update; it shows the first line that differs, not the whole page.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(go test ./report -update rewrites it)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs: %d lines, want %d (go test ./report -update rewrites it)", path, len(gl), len(wl))
	}
}

func renderHTML(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteHTMLGolden(t *testing.T) {
	for name, r := range renderFixtures(t) {
		t.Run(name, func(t *testing.T) {
			goldenFile(t, "html-"+name+".golden.html", renderHTML(t, r))
		})
	}
}

// TestHTMLSelfContained parses every page: nothing may run or be fetched,
// every chart must say what it shows, and no number may be NaN.
func TestHTMLSelfContained(t *testing.T) {
	for name, r := range renderFixtures(t) {
		t.Run(name, func(t *testing.T) {
			out := renderHTML(t, r)
			links := map[string]bool{}
			for _, c := range r.Cases {
				links[c.URL] = true
			}
			for _, p := range htmlProblems(t, out, links) {
				t.Error(p)
			}
		})
	}
}

var notANumber = regexp.MustCompile(`NaN|[+-]?Inf\b|%!`)

// htmlProblems lists what makes a page not self-contained or not
// accessible: a script or event handler, a src, an href that is not one
// of links, a CSS url(), an SVG without a <title>, a NaN or Inf.
func htmlProblems(t *testing.T, page []byte, links map[string]bool) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	svgs := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "iframe", "object", "embed", "img", "link", "base", "frame":
				problems = append(problems, "a <"+n.Data+"> element")
			case "style":
				css := strings.ToLower(textOf(n))
				if strings.Contains(css, "url(") || strings.Contains(css, "@import") || strings.Contains(css, "@font-face") {
					problems = append(problems, "the CSS fetches something")
				}
			case "svg":
				svgs++
				first := firstElement(n)
				if first == nil || first.Data != "title" || strings.TrimSpace(textOf(first)) == "" {
					problems = append(problems, "an <svg> whose first child is not a <title>")
				}
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"):
					problems = append(problems, "an event handler "+a.Key)
				case key == "src" || key == "srcset" || key == "action" || key == "formaction" || key == "xlink:href" || key == "poster":
					problems = append(problems, "a "+a.Key+"="+a.Val)
				case key == "href" && (n.Data != "a" || !links[a.Val]):
					problems = append(problems, "an href that is not a case's link: "+a.Val)
				case key == "style" && strings.Contains(strings.ToLower(a.Val), "url("):
					problems = append(problems, "a style attribute with url()")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if m := notANumber.Find(page); m != nil {
		problems = append(problems, "the page holds "+string(m))
	}
	if svgs == 0 && bytes.Contains(page, []byte("<svg")) {
		problems = append(problems, "an <svg> the parser did not see")
	}
	return problems
}

func firstElement(n *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			return c
		}
	}
	return nil
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// TestHTMLProblemsFound makes sure the checker above can fail.
func TestHTMLProblemsFound(t *testing.T) {
	tests := []struct{ name, page, want string }{
		{"script", `<p>x</p><script>alert(1)</script>`, "a <script> element"},
		{"handler", `<p onclick="x()">x</p>`, "an event handler onclick"},
		{"image", `<img src="https://cdn.example.com/a.png">`, "a <img> element"},
		{"href", `<a href="https://cdn.example.com/">x</a>`, "an href that is not a case's link: https://cdn.example.com/"},
		{"stylesheet", `<link rel="stylesheet" href="https://cdn.example.com/a.css">`, "a <link> element"},
		{"css", `<style>body { background: url(https://cdn.example.com/a.png) }</style>`, "the CSS fetches something"},
		{"font", `<style>@import "https://fonts.example.com/a.css";</style>`, "the CSS fetches something"},
		{"svg", `<svg viewBox="0 0 1 1"><rect/></svg>`, "an <svg> whose first child is not a <title>"},
		{"nan", `<svg><title>t</title><rect width="NaN"/></svg>`, "the page holds NaN"},
		{"inf", `<p>+Inf%</p>`, "the page holds +Inf"},
		{"fmt", `<p>%!f(string=x)</p>`, "the page holds %!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := htmlProblems(t, []byte(tt.page), map[string]bool{"https://rt.example.com/1": true})
			if !slices.Contains(got, tt.want) {
				t.Errorf("problems = %q, want %q among them", got, tt.want)
			}
		})
	}
	if got := htmlProblems(t, []byte(`<a href="https://rt.example.com/1">1</a>`), map[string]bool{"https://rt.example.com/1": true}); len(got) > 0 {
		t.Errorf("a case's link: problems = %q, want none", got)
	}
}

// TestHTMLEscapes renders case keys and links made to break out of the
// page: they must come out as inert text.
func TestHTMLEscapes(t *testing.T) {
	tests := []struct {
		name      string
		line      CaseLine
		wantText  string
		forbidden []string
		href      string // the link as the page writes it
	}{
		{
			name:      "script in a key, javascript link",
			line:      CaseLine{Case: "C-1", Key: `<script>alert("x")</script>`, URL: "javascript:alert(1)"},
			wantText:  `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`,
			forbidden: []string{"<script", "javascript:", "ZgotmplZ"},
		},
		{
			name:      "attribute break-out in the link",
			line:      CaseLine{Case: "C-2", URL: `https://rt.example.com/?id=1" onmouseover="alert(1)`},
			wantText:  `href="https://rt.example.com/?id=1%22%20onmouseover=%22alert%281%29"`,
			forbidden: []string{`" onmouseover`},
			href:      "https://rt.example.com/?id=1%22%20onmouseover=%22alert%281%29",
		},
		{
			name:      "markup in the customer and tier",
			line:      CaseLine{Case: "C-3", Customer: `<img src=x onerror=alert(1)>`, Tier: `</title><script>x</script>`},
			wantText:  `&lt;img src=x onerror=alert(1)&gt;`,
			forbidden: []string{"<img", "</title><script>"},
		},
		{
			name:     "no link: the id as text",
			line:     CaseLine{Case: "4711"},
			wantText: `<th scope="row" class="case">4711</th>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.line
			l.Source, l.Severity, l.Target, l.State = "rt", 1, "first_response", "breached"
			if l.Tier == "" {
				l.Tier = "premium"
			}
			goal, elapsed := int64(1800), int64(7200)
			l.GoalSeconds, l.ElapsedSeconds = &goal, &elapsed
			r := &Report{
				Month: "2026-10", Timezone: "UTC", AsOf: time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC),
				Rows:  []Row{{Source: "rt", Tier: l.Tier, Severity: 1, Target: "first_response", Decided: 1, Breached: 1}},
				Tiers: []TierSummary{{Tier: l.Tier, Decided: 1, Compliance: new(float64), Breaches: [4]int{1}}},
				Worst: []CaseLine{l}, Cases: []CaseLine{l},
			}
			out := string(renderHTML(t, r))
			if !strings.Contains(out, tt.wantText) {
				t.Errorf("the page does not hold %s", tt.wantText)
			}
			for _, f := range tt.forbidden {
				if strings.Contains(out, f) {
					t.Errorf("the page holds %s", f)
				}
			}
			if p := htmlProblems(t, []byte(out), map[string]bool{tt.href: true}); len(p) > 0 {
				t.Errorf("problems: %q", p)
			}
		})
	}
}

func TestHTMLPages(t *testing.T) {
	fixtures := renderFixtures(t)
	tests := []struct {
		name          string
		want, wantNot []string
		svgs          int
	}{
		{"full", []string{
			"<title>SLA report, October 2026</title>", "as of 31 Oct 2026 23:59:59 CET",
			"✗ Below the 95% objective (10.8 pts short)", "✓ Meets the 90% objective (5.0 pts above)", "No outcome decided",
			"Compliance by month and tier", "Cases without a customer", `<h3>umbrella</h3>`,
			`<a href="https://rt.example.com/Ticket/Display.html?id=4781">4781</a>`,
		}, []string{"Partial month"}, 3},
		{"partial", []string{
			"SLA report for acme, October 2026", "Partial month.", "as of 15 Oct 2026 14:30 CEST",
			"run the report again after 1 Nov 2026 00:00 CET",
		}, []string{"Compliance by month and tier", "Per customer"}, 2},
		{"undecided", []string{"No target was decided in October 2026: there is no compliance to chart.", "No outcome decided", "Best effort"}, []string{"Compliance by tier"}, 0},
		{"empty", []string{"<strong>No cases.</strong> No case was open in November 2026"}, []string{"Compliance per tier", "<table"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(renderHTML(t, fixtures[tt.name]))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("the page does not hold %q", w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("the page holds %q", w)
				}
			}
			if got := strings.Count(out, "<svg"); got != tt.svgs {
				t.Errorf("%d charts, want %d", got, tt.svgs)
			}
		})
	}
}

func TestHumanSeconds(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0s"}, {59, "59s"}, {60, "1m"}, {3599, "59m"}, {3600, "1h"}, {12000, "3h 20m"},
		{86400, "1d"}, {86400 + 4*3600 + 59, "1d 4h"}, {-5400, "-1h 30m"},
	}
	for _, tt := range tests {
		if got := humanSeconds(tt.in); got != tt.want {
			t.Errorf("humanSeconds(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTierCards(t *testing.T) {
	ratio := func(f float64) *float64 { return &f }
	tests := []struct {
		name                   string
		tier                   TierSummary
		status, value, verdict string
	}{
		{"exactly the objective", TierSummary{Tier: "p", Decided: 20, Met: 19, Compliance: ratio(19.0 / 20), Objective: ratio(0.95)},
			"above", "95.0%", "✓ Meets the 95% objective (0.0 pts above)"},
		{"below", TierSummary{Tier: "p", Decided: 3, Met: 2, Compliance: ratio(2.0 / 3), Objective: ratio(0.995)},
			"below", "66.7%", "✗ Below the 99.5% objective (32.8 pts short)"},
		{"no objective", TierSummary{Tier: "p", Decided: 1, Met: 1, Compliance: ratio(1)}, "none", "100.0%", "No objective set"},
		{"nothing decided", TierSummary{Tier: "p", Objective: ratio(0.9)}, "nodata", "–", "No outcome decided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &htmlBuilder{r: &Report{}, loc: time.UTC, colors: map[string]int{}}
			c := b.cards([]TierSummary{tt.tier})[0]
			if c.Status != tt.status || c.Compliance != tt.value || c.Verdict != tt.verdict {
				t.Errorf("card = %s, %s, %q; want %s, %s, %q", c.Status, c.Compliance, c.Verdict, tt.status, tt.value, tt.verdict)
			}
		})
	}
}

func TestNiceStep(t *testing.T) {
	for _, tt := range []struct{ highest, want int }{{1, 1}, {5, 1}, {6, 2}, {10, 2}, {11, 5}, {25, 5}, {26, 10}, {51, 20}, {4999, 1000}} {
		if got := niceStep(tt.highest); got != tt.want {
			t.Errorf("niceStep(%d) = %d, want %d", tt.highest, got, tt.want)
		}
	}
}
