package dashboards

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// The checker of a dashboard: what Grafana and Prometheus would only tell
// at run time (a typo in a metric or label gives an empty panel, not an
// error), told at test time.

// rulesFile holds the recording rules the dashboards may use.
const rulesFile = "../alerts/support_sla.rules.yml"

// catalogueLabels are the labels of every metric of the exporter, from the
// README's Metrics table (customer: with metrics.by_customer; build_info:
// what client_golang's version collector sets). TestCatalogueLabels checks
// it against collector.MetricNames and the collector's golden scrapes.
var catalogueLabels = map[string][]string{
	"support_sla_open_cases":                                   {"source", "tier", "case_severity", "status", "customer"},
	"support_sla_targets":                                      {"source", "tier", "case_severity", "target", "state", "customer"},
	"support_sla_next_due_timestamp_seconds":                   {"source", "tier", "case_severity", "target"},
	"support_sla_remaining_seconds":                            {"source", "tier", "case_severity", "target"},
	"support_sla_oldest_open_case_age_seconds":                 {"source", "tier", "case_severity"},
	"support_sla_month_outcomes":                               {"source", "tier", "case_severity", "target", "outcome", "customer"},
	"support_sla_month_compliance_ratio":                       {"source", "tier", "case_severity", "target"},
	"support_sla_outcomes_total":                               {"source", "tier", "case_severity", "target", "outcome"},
	"support_sla_case_due_timestamp_seconds":                   {"source", "case", "customer", "tier", "case_severity", "target"},
	"support_sla_case_consumed_ratio":                          {"source", "case", "customer", "tier", "case_severity", "target"},
	"support_sla_case_info":                                    {"source", "case", "key", "url"},
	"support_sla_case_series_dropped":                          {},
	"support_sla_source_up":                                    {"source"},
	"support_sla_source_last_success_timestamp_seconds":        {"source"},
	"support_sla_source_poll_duration_seconds":                 {"source"},
	"support_sla_source_poll_interval_seconds":                 {"source"},
	"support_sla_source_requests_total":                        {"source", "code"},
	"support_sla_source_cases":                                 {"source"},
	"support_sla_bridge_alerts_sent_total":                     {"alertname"},
	"support_sla_bridge_errors_total":                          {},
	"support_sla_bridge_pending_alerts":                        {},
	"support_sla_writeback_notes_total":                        {"source", "result"},
	"support_sla_source_due_skew_seconds":                      {"source"},
	"support_sla_config_last_reload_successful":                {},
	"support_sla_config_last_reload_success_timestamp_seconds": {},
	"support_sla_exporter_build_info":                          {"version", "revision", "branch", "goversion", "goos", "goarch", "tags"},
}

// histograms are the catalogue's histograms: their _bucket, _sum and
// _count series are what PromQL selects.
var histograms = []string{"support_sla_remaining_seconds", "support_sla_source_poll_duration_seconds"}

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"instance", "job"}

// labelSet is a set of label names; nil when unknown (the expression has
// an error already reported), so that one mistake gives one error.
type labelSet map[string]bool

func newLabelSet(names ...string) labelSet {
	s := labelSet{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

func (s labelSet) union(o labelSet) labelSet {
	if s == nil {
		return nil
	}
	u := maps.Clone(s)
	maps.Copy(u, o)
	return u
}

func (s labelSet) without(names ...string) labelSet {
	d := maps.Clone(s)
	for _, n := range names {
		delete(d, n)
	}
	return d
}

func (s labelSet) String() string {
	if len(s) == 0 {
		return "no labels"
	}
	return strings.Join(slices.Sorted(maps.Keys(s)), ", ")
}

// catalogue knows the series a query may select: the exporter's and the
// recording rules'.
type catalogue struct {
	series map[string]labelSet
	rules  map[string][]rulefmt.Rule
	parser parser.Parser
}

func newCatalogue(t *testing.T) *catalogue {
	t.Helper()
	c := &catalogue{series: map[string]labelSet{}, rules: map[string][]rulefmt.Rule{},
		parser: parser.NewParser(parser.Options{})}
	for name, ls := range catalogueLabels {
		set := newLabelSet(ls...).union(newLabelSet(targetLabels...))
		if slices.Contains(histograms, name) {
			c.series[name+"_bucket"] = set.union(newLabelSet("le"))
			c.series[name+"_sum"] = set
			c.series[name+"_count"] = set
			continue
		}
		c.series[name] = set
	}
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, c.parser, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(errs) > 0 {
		t.Fatalf("recording rules: %v", errs)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				c.rules[r.Record] = append(c.rules[r.Record], r)
			}
		}
	}
	if len(c.rules) == 0 {
		t.Fatalf("%s has no recording rules", rulesFile)
	}
	return c
}

// labelsOfName are the labels of the series of a metric or recording rule.
func (c *catalogue) labelsOfName(name string) (labelSet, bool) {
	if s, ok := c.series[name]; ok {
		return s, true
	}
	rules, ok := c.rules[name]
	if !ok {
		return nil, false
	}
	// A name recorded by several rules has the labels of any of them.
	// Mistakes inside the rules are the rules' tests' business.
	set := labelSet{}
	for _, r := range rules {
		e, err := c.parser.ParseExpr(r.Expr)
		if err != nil {
			continue
		}
		var ignored []error
		set = set.union(c.labelsOf(e, &ignored)).union(newLabelSet(slices.Collect(maps.Keys(r.Labels))...))
	}
	return set, true
}

// names are every metric and recording rule name, for suggestions.
func (c *catalogue) names() []string {
	return append(slices.Collect(maps.Keys(c.series)), slices.Collect(maps.Keys(c.rules))...)
}

// labelsOf infers the labels of e's result, and adds to errs each label
// e uses that is not on what it applies to: a matcher on a metric
// without that label, a by, on or group_left label the expression
// inside lacks. It follows the rules of PromQL's evaluation closely
// enough for the queries of dashboards.
func (c *catalogue) labelsOf(e parser.Expr, errs *[]error) labelSet {
	errf := func(format string, args ...any) { *errs = append(*errs, fmt.Errorf(format, args...)) }
	switch e := e.(type) {
	case *parser.VectorSelector:
		name := e.Name
		for _, m := range e.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			errf("selector %s names no metric", e)
			return nil
		}
		set, ok := c.labelsOfName(name)
		if !ok {
			errf("unknown metric %s: not in collector.MetricNames() nor a recording rule of %s%s", name, rulesFile, suggest(name, c.names()))
			return nil
		}
		for _, m := range e.LabelMatchers {
			if m.Name != model.MetricNameLabel && !set[m.Name] {
				errf("unknown label %q in %s: %s has %s%s", m.Name, e, name, set, suggest(m.Name, slices.Collect(maps.Keys(set))))
			}
		}
		return set
	case *parser.MatrixSelector:
		return c.labelsOf(e.VectorSelector, errs)
	case *parser.SubqueryExpr:
		return c.labelsOf(e.Expr, errs)
	case *parser.ParenExpr:
		return c.labelsOf(e.Expr, errs)
	case *parser.StepInvariantExpr:
		return c.labelsOf(e.Expr, errs)
	case *parser.UnaryExpr:
		return c.labelsOf(e.Expr, errs)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return labelSet{}
	case *parser.AggregateExpr:
		if e.Param != nil {
			c.labelsOf(e.Param, errs)
		}
		inner := c.labelsOf(e.Expr, errs)
		for _, l := range e.Grouping {
			if inner != nil && !inner[l] {
				errf("unknown label %q in the grouping of %s: the expression inside has %s%s", l, e, inner, suggest(l, slices.Collect(maps.Keys(inner))))
			}
		}
		switch {
		case e.Without:
			return inner.without(e.Grouping...)
		case e.Op == parser.TOPK || e.Op == parser.BOTTOMK || e.Op == parser.LIMITK || e.Op == parser.LIMIT_RATIO:
			return inner
		case e.Op == parser.COUNT_VALUES:
			if s, ok := e.Param.(*parser.StringLiteral); ok {
				return newLabelSet(e.Grouping...).union(newLabelSet(s.Val))
			}
		}
		return newLabelSet(e.Grouping...)
	case *parser.Call:
		var first labelSet
		argLabels := make([]labelSet, len(e.Args))
		for i, a := range e.Args {
			argLabels[i] = c.labelsOf(a, errs)
			if first == nil && (a.Type() == parser.ValueTypeVector || a.Type() == parser.ValueTypeMatrix) {
				first = argLabels[i]
			}
		}
		str := func(i int) string {
			if s, ok := e.Args[i].(*parser.StringLiteral); ok {
				return s.Val
			}
			return ""
		}
		switch e.Func.Name {
		case "label_replace":
			if src := str(3); src != "" && argLabels[0] != nil && !argLabels[0][src] {
				errf("unknown label %q in %s: the expression has %s", src, e, argLabels[0])
			}
			return argLabels[0].union(newLabelSet(str(1)))
		case "label_join":
			for i := 3; i < len(e.Args); i++ {
				if src := str(i); argLabels[0] != nil && !argLabels[0][src] {
					errf("unknown label %q in %s: the expression has %s", src, e, argLabels[0])
				}
			}
			return argLabels[0].union(newLabelSet(str(1)))
		case "histogram_quantile":
			if argLabels[1] != nil && !argLabels[1]["le"] {
				errf("%s: the buckets have no le label (keep it in the aggregation: by (..., le))", e)
			}
			return argLabels[1].without("le")
		case "absent", "absent_over_time", "vector", "time", "scalar":
			return labelSet{}
		}
		if first == nil {
			return labelSet{}
		}
		return first
	case *parser.BinaryExpr:
		l, r := c.labelsOf(e.LHS, errs), c.labelsOf(e.RHS, errs)
		if e.LHS.Type() == parser.ValueTypeScalar {
			return r
		}
		if e.RHS.Type() == parser.ValueTypeScalar {
			return l
		}
		vm := e.VectorMatching
		if vm == nil || l == nil || r == nil {
			return l.union(r)
		}
		for _, m := range vm.MatchingLabels {
			switch {
			case vm.On && !l[m]:
				errf("unknown label %q in on (...) of %s: the left side has %s", m, e, l)
			case vm.On && !r[m]:
				errf("unknown label %q in on (...) of %s: the right side has %s", m, e, r)
			case !vm.On && !l[m] && !r[m]:
				errf("unknown label %q in ignoring (...) of %s: neither side has it", m, e)
			}
		}
		switch vm.Card {
		case parser.CardManyToMany: // and, or, unless
			if e.Op == parser.LOR {
				return l.union(r)
			}
			return l
		case parser.CardManyToOne:
			for _, m := range vm.Include {
				if !r[m] {
					errf("unknown label %q in group_left (...) of %s: the right side has %s", m, e, r)
				}
			}
			return l.union(newLabelSet(vm.Include...))
		case parser.CardOneToMany:
			for _, m := range vm.Include {
				if !l[m] {
					errf("unknown label %q in group_right (...) of %s: the left side has %s", m, e, l)
				}
			}
			return r.union(newLabelSet(vm.Include...))
		}
		if vm.On {
			return newLabelSet(vm.MatchingLabels...)
		}
		return l.without(vm.MatchingLabels...)
	}
	*errs = append(*errs, fmt.Errorf("%s: a %T, which the checker does not know", e, e))
	return labelSet{}
}

// suggest is ", did you mean X?" for the known name closest to a
// misspelt one, when one is close.
func suggest(name string, known []string) string {
	best, bestD := "", 3 // at most two edits away
	for _, k := range known {
		if d := editDistance(name, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(", did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// The parts of a dashboard's JSON model the checks read.
type (
	dashJSON struct {
		UID           string          `json:"uid"`
		Title         string          `json:"title"`
		SchemaVersion int             `json:"schemaVersion"`
		Inputs        json.RawMessage `json:"__inputs"`
		Panels        []panelJSON     `json:"panels"`
		Templating    struct {
			List []varJSON `json:"list"`
		} `json:"templating"`
	}
	panelJSON struct {
		ID          int    `json:"id"`
		Type        string `json:"type"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Datasource  any    `json:"datasource"`
		GridPos     struct {
			X, Y, W, H int
		} `json:"gridPos"`
		Targets []targetJSON `json:"targets"`
		Panels  []panelJSON  `json:"panels"`
	}
	targetJSON struct {
		RefID      string `json:"refId"`
		Expr       string `json:"expr"`
		Datasource any    `json:"datasource"`
	}
	varJSON struct {
		templateVar
		IncludeAll bool   `json:"includeAll"`
		AllValue   string `json:"allValue"`
		Multi      bool   `json:"multi"`
	}
)

// datasourceRef is the one datasource reference allowed: the variable.
var datasourceRef = map[string]any{"type": "prometheus", "uid": "${datasource}"}

// check returns every mistake found in the dashboard b.
func (c *catalogue) check(b []byte) []error {
	var errs []error
	errf := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return []error{fmt.Errorf("invalid JSON: %w", err)}
	}
	// Anywhere in the model (panels, targets, variables, annotations,
	// links), a data source is the variable: a uid would tie the
	// dashboard to one Grafana.
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "datasource" && !reflect.DeepEqual(x, datasourceRef) {
					errf("%s.datasource is %v, not %v", path, x, datasourceRef)
					continue
				}
				walk(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	walk("$", raw)

	var d dashJSON
	if err := json.Unmarshal(b, &d); err != nil {
		return append(errs, fmt.Errorf("unexpected JSON model: %w", err))
	}
	if d.UID == "" || d.Title == "" {
		errf("uid %q and title %q must both be set", d.UID, d.Title)
	}
	if d.SchemaVersion != 39 {
		errf("schemaVersion is %d, not 39", d.SchemaVersion)
	}
	if d.Inputs != nil {
		errf("__inputs: an export for sharing; provisioning by file needs the datasource variable instead")
	}

	defined := slices.Collect(maps.Keys(builtins))
	var dsVars []string
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			dsVars = append(dsVars, v.Name)
			if v.queryText() != "prometheus" {
				errf("variable %s: datasource of type %q, not prometheus", v.Name, v.queryText())
			}
		case "query":
			c.checkVariable(v, defined, errf)
		}
		// A variable may use those before it, as Grafana resolves them.
		defined = append(defined, v.Name)
	}
	if !slices.Equal(dsVars, []string{"datasource"}) {
		errf("datasource variables %q: want exactly one, named datasource", dsVars)
	}

	ids := map[int]string{}
	var top []panelJSON
	for _, p := range d.Panels {
		top = append(top, p)
		for _, q := range append([]panelJSON{p}, p.Panels...) {
			if other, dup := ids[q.ID]; dup {
				errf("panels %q and %q have the same id %d", other, q.Title, q.ID)
			}
			ids[q.ID] = q.Title
			c.checkPanel(q, defined, errf)
		}
	}
	// Collapsed rows' panels are laid out when the row opens: only the
	// top level shares one grid.
	for i, p := range top {
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			errf("panel %q: gridPos %+v is outside the 24 columns", p.Title, g)
		}
		for _, q := range top[:i] {
			h := q.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				errf("panels %q %+v and %q %+v overlap", q.Title, h, p.Title, g)
			}
		}
	}
	return errs
}

func (c *catalogue) checkVariable(v varJSON, defined []string, errf func(string, ...any)) {
	if !v.IncludeAll || v.AllValue != ".*" || !v.Multi {
		errf("variable %s: want multi, include All, allValue .*", v.Name)
	}
	m := labelValues.FindStringSubmatch(v.queryText())
	if m == nil {
		errf("variable %s: %q is not label_values(selector, label)", v.Name, v.queryText())
		return
	}
	sel, ok := c.expr(m[1], defined, fmt.Sprintf("variable %s", v.Name), errf)
	if !ok {
		return
	}
	vs, ok := sel.(*parser.VectorSelector)
	if !ok {
		errf("variable %s: %s is not a series selector", v.Name, m[1])
		return
	}
	var errs []error
	if set := c.labelsOf(vs, &errs); len(errs) == 0 && !set[m[2]] {
		errs = append(errs, fmt.Errorf("unknown label %q: %s has %s%s", m[2], vs, set, suggest(m[2], slices.Collect(maps.Keys(set)))))
	}
	for _, err := range errs {
		errf("variable %s: %v", v.Name, err)
	}
}

func (c *catalogue) checkPanel(p panelJSON, defined []string, errf func(string, ...any)) {
	if p.Title == "" {
		errf("panel %d has no title", p.ID)
	}
	if p.Type == "row" {
		return
	}
	if p.Datasource == nil {
		errf("panel %q has no datasource", p.Title)
	}
	if len(p.Targets) == 0 {
		errf("panel %q has no query", p.Title)
	}
	refs := map[string]bool{}
	for _, t := range p.Targets {
		where := fmt.Sprintf("panel %q, query %s", p.Title, t.RefID)
		if t.RefID == "" || refs[t.RefID] {
			errf("%s: refId empty or repeated", where)
		}
		refs[t.RefID] = true
		if t.Datasource == nil {
			errf("%s has no datasource", where)
		}
		if e, ok := c.expr(t.Expr, defined, where, errf); ok {
			var errs []error
			c.labelsOf(e, &errs)
			for _, err := range errs {
				errf("%s: %v", where, err)
			}
		}
	}
}

// expr parses a query, its variables expanded, once every variable it
// refers to is defined.
func (c *catalogue) expr(s string, defined []string, where string, errf func(string, ...any)) (parser.Expr, bool) {
	for _, name := range varRefs(s) {
		if !slices.Contains(defined, name) {
			errf("%s: variable $%s is not defined", where, name)
			return nil, false
		}
	}
	var query []string
	for _, n := range defined {
		if _, builtin := builtins[n]; !builtin {
			query = append(query, n)
		}
	}
	x, err := expand(s, query)
	if err != nil {
		errf("%s: %v", where, err)
		return nil, false
	}
	e, err := c.parser.ParseExpr(x)
	if err != nil {
		errf("%s: %s does not parse: %v", where, x, err)
		return nil, false
	}
	return e, true
}
