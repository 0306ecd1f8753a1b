package dashboards

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/support-sla/support_sla_exporter/collector"
)

// The dashboards, their stable uids (links and bookmarks use them) and
// their variables.
var want = map[string]struct {
	uid       string
	variables []string
}{
	"sla-overview.json": {"support-sla-overview", []string{"datasource", "source", "tier", "case_severity"}},
	"sla-at-risk.json":  {"support-sla-at-risk", []string{"datasource", "source", "tier", "case_severity"}},
	// Source metrics have no tier nor case severity.
	"sla-sources.json": {"support-sla-sources", []string{"datasource", "source"}},
}

// wantMayBeEmpty are the queries allowed to return nothing
// (Dashboard/Panel/RefID): the due skew exists for Request Tracker only.
var wantMayBeEmpty = []string{"support-sla-sources/Due date skew against the ticket system/A"}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, b []byte) dashJSON {
	t.Helper()
	var d dashJSON
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDashboards runs every check on every dashboard, and checks their
// uids, titles and variables.
func TestDashboards(t *testing.T) {
	c := newCatalogue(t)
	names, err := fs.Glob(dashboardFS, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	if w := slices.Sorted(maps.Keys(want)); !slices.Equal(names, w) {
		t.Fatalf("dashboards %q, want %q", names, w)
	}
	uids, titles := map[string]string{}, map[string]string{}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			b, err := dashboardFS.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range c.check(b) {
				t.Error(err)
			}
			d := decode(t, b)
			if d.UID != want[n].uid {
				t.Errorf("uid %q, want %q", d.UID, want[n].uid)
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q is also %s's", d.UID, other)
			}
			if other, dup := titles[d.Title]; dup {
				t.Errorf("title %q is also %s's", d.Title, other)
			}
			uids[d.UID], titles[d.Title] = n, n
			var vars []string
			for _, v := range d.Templating.List {
				vars = append(vars, v.Name)
			}
			if !slices.Equal(vars, want[n].variables) {
				t.Errorf("variables %q, want %q", vars, want[n].variables)
			}
		})
	}
}

// TestCheckFindsMistakes shows that each check fails: every fixture of
// testdata/bad is testdata/good.dashboard with one mistake, and must
// give exactly the one error of its .err file. (Not .json: Grafana would
// provision them from a mounted dashboards folder.)
func TestCheckFindsMistakes(t *testing.T) {
	c := newCatalogue(t)
	if errs := c.check(readFile(t, "testdata/good.dashboard")); len(errs) > 0 {
		t.Fatalf("the good fixture: %v", errs)
	}
	files, err := filepath.Glob("testdata/bad/*.dashboard")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".dashboard"), func(t *testing.T) {
			wantErr := strings.TrimSpace(string(readFile(t, strings.TrimSuffix(f, ".dashboard")+".err")))
			errs := c.check(readFile(t, f))
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), wantErr) {
				t.Errorf("errors %q, want one containing %q", errs, wantErr)
			}
		})
	}
}

// TestQueries: Queries gives every panel query, PromQL once expanded.
func TestQueries(t *testing.T) {
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	wantN := 0
	names, err := fs.Glob(dashboardFS, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := dashboardFS.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var count func([]panelJSON)
		count = func(ps []panelJSON) {
			for _, p := range ps {
				wantN += len(p.Targets)
				count(p.Panels)
			}
		}
		count(decode(t, b).Panels)
	}
	if len(qs) != wantN || wantN == 0 {
		t.Fatalf("%d queries, want %d", len(qs), wantN)
	}
	p := parser.NewParser(parser.Options{})
	var mayBeEmpty []string
	for _, q := range qs {
		id := q.Dashboard + "/" + q.Panel + "/" + q.RefID
		if q.Dashboard == "" || q.Panel == "" || q.RefID == "" {
			t.Errorf("%s: dashboard, panel or refId missing", id)
		}
		if strings.Contains(q.Expr, "$") {
			t.Errorf("%s: variable left in %s", id, q.Expr)
		}
		if _, err := p.ParseExpr(q.Expr); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if q.MayBeEmpty {
			mayBeEmpty = append(mayBeEmpty, id)
		}
	}
	if !slices.Equal(mayBeEmpty, wantMayBeEmpty) {
		t.Errorf("queries that may be empty %q, want %q", mayBeEmpty, wantMayBeEmpty)
	}
}

func TestVariables(t *testing.T) {
	vs, err := Variables()
	if err != nil {
		t.Fatal(err)
	}
	var got, wantVars []string
	for _, v := range vs {
		got = append(got, v.Dashboard+"/"+v.Name)
		if _, err := parser.NewParser(parser.Options{}).ParseMetricSelector(v.Match); err != nil || v.Label == "" {
			t.Errorf("%s/%s: match %q, label %q: %v", v.Dashboard, v.Name, v.Match, v.Label, err)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(want)) {
		for _, name := range want[n].variables[1:] { // datasource is no query
			wantVars = append(wantVars, want[n].uid+"/"+name)
		}
	}
	if !slices.Equal(got, wantVars) {
		t.Errorf("variables %q, want %q", got, wantVars)
	}
}

func TestExpand(t *testing.T) {
	vars := []string{"source", "tier"}
	for _, tc := range []struct {
		in, want, wantErr string
	}{
		{in: `x{source=~"$source", tier=~"$tier"}`, want: `x{source=~".*", tier=~".*"}`},
		{in: `x{source=~"${source}"}`, want: `x{source=~".*"}`},
		{in: `x{source=~"${source:regex}"}`, want: `x{source=~".*"}`},
		{in: `rate(x[$__rate_interval]) + rate(x[$__interval]) + max_over_time(x[${__range}])`, want: `rate(x[1m]) + rate(x[15s]) + max_over_time(x[1h])`},
		// $1 is label_replace's, not Grafana's.
		{in: `label_replace(x, "a", "$1", "b", "(.*)")`, want: `label_replace(x, "a", "$1", "b", "(.*)")`},
		// $source_name is another variable, not $source then "_name".
		{in: `x{a="$source_name"}`, wantErr: `undefined variables $source_name`},
		{in: `x{a="$case_severity", b="$source"}`, wantErr: `undefined variables $case_severity in`},
	} {
		got, err := expand(tc.in, vars)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("expand(%s): %q, %v; want error %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("expand(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// sample is a line of the text exposition format: its name and labels.
var sample = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
var labelName = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)

// TestCatalogueLabels: the label table the checks use names every metric
// of collector.MetricNames, and every label of the collector's golden
// scrapes.
func TestCatalogueLabels(t *testing.T) {
	names := collector.MetricNames()
	slices.Sort(names)
	if got := slices.Sorted(maps.Keys(catalogueLabels)); !slices.Equal(got, names) {
		t.Errorf("catalogueLabels has %q,\ncollector.MetricNames() %q", got, names)
	}
	golden, err := filepath.Glob("../collector/testdata/*.prom")
	if err != nil || len(golden) == 0 {
		t.Fatalf("no golden scrapes: %v", err)
	}
	checked := 0
	for _, g := range golden {
		f, err := os.Open(g)
		if err != nil {
			t.Fatal(err)
		}
		s := bufio.NewScanner(f)
		for s.Scan() {
			m := sample.FindStringSubmatch(s.Text())
			if m == nil {
				continue
			}
			name := m[1]
			for _, h := range histograms {
				if name == h+"_bucket" || name == h+"_sum" || name == h+"_count" {
					name = h
				}
			}
			known, ok := catalogueLabels[name]
			if !ok {
				t.Errorf("%s: %s is not in catalogueLabels", g, m[1])
				continue
			}
			for _, l := range labelName.FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains(known, l[1]) && !(l[1] == "le" && name != m[1]) {
					t.Errorf("%s: %s has label %s, not in catalogueLabels", g, m[1], l[1])
				}
			}
			checked++
		}
		f.Close()
	}
	if checked == 0 {
		t.Error("no sample checked")
	}
}
