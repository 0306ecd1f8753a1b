// Package dashboards holds the Grafana dashboards of support_sla_exporter
// (the JSON files of this folder, provisioned by file) and lists the
// PromQL queries of their panels and variables, so that tests can run
// them against a real Prometheus.
package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

// dashboardFS holds the dashboards, one JSON file each.
//
//go:embed *.json
var dashboardFS embed.FS

// MayBeEmptyMarker in a panel's description marks a panel whose queries
// may rightly return nothing (data that only some sources have).
const MayBeEmptyMarker = "may be empty"

// Query is the PromQL expression of one panel target, with the Grafana
// variables replaced by what "All" and a default time range give.
type Query struct {
	Dashboard  string // the dashboard's uid
	Panel      string // the panel's title
	RefID      string
	Expr       string
	MayBeEmpty bool // the panel's description contains MayBeEmptyMarker
}

// Variable is a label_values query variable: the values of Label over
// the series Match selects (variables replaced as in Query). It is not
// PromQL: ask Prometheus's /api/v1/label/<Label>/values?match[]=<Match>.
type Variable struct {
	Dashboard string // the dashboard's uid
	Name      string
	Label     string
	Match     string
}

// builtins are what Grafana's own variables become: the values a
// Prometheus data source with a 15s scrape interval gives over 1 hour.
var builtins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "1h",
}

// dashboard is the part of a dashboard's JSON model the queries need.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []templateVar `json:"list"`
	} `json:"templating"`
}

// panel is a panel; rows hold theirs in Panels when collapsed.
type panel struct {
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Targets     []target `json:"targets"`
	Panels      []panel  `json:"panels"`
}

// target is a panel's query.
type target struct {
	RefID string `json:"refId"`
	Expr  string `json:"expr"`
}

// templateVar is a dashboard variable. Query is a string in older
// dashboards and {"query": "..."} in newer ones.
type templateVar struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	Query json.RawMessage `json:"query"`
}

// queryText is the variable's query, whichever form it has.
func (v templateVar) queryText() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(v.Query, &o) == nil {
		return o.Query
	}
	return ""
}

// load decodes every dashboard of dashboardFS, in file name order.
func load() ([]dashboard, error) {
	names, err := fs.Glob(dashboardFS, "*.json")
	if err != nil {
		return nil, err
	}
	var ds []dashboard
	for _, n := range names {
		b, err := dashboardFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// allPanels are the dashboard's panels, those inside rows included.
func (d dashboard) allPanels() []panel {
	var all []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return all
}

// Queries are the queries of every panel target of every dashboard.
func Queries() ([]Query, error) {
	ds, err := load()
	if err != nil {
		return nil, err
	}
	var qs []Query
	for _, d := range ds {
		vars := d.queryVariables()
		for _, p := range d.allPanels() {
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) == "" {
					continue
				}
				e, err := expand(t.Expr, vars)
				if err != nil {
					return nil, fmt.Errorf("dashboard %s, panel %q, query %s: %w", d.UID, p.Title, t.RefID, err)
				}
				qs = append(qs, Query{Dashboard: d.UID, Panel: p.Title, RefID: t.RefID, Expr: e,
					MayBeEmpty: strings.Contains(p.Description, MayBeEmptyMarker)})
			}
		}
	}
	return qs, nil
}

// labelValues is Grafana's label_values(selector, label).
var labelValues = regexp.MustCompile(`^\s*label_values\(\s*(.*?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)

// Variables are the label_values query variables of every dashboard.
func Variables() ([]Variable, error) {
	ds, err := load()
	if err != nil {
		return nil, err
	}
	var vs []Variable
	for _, d := range ds {
		vars := d.queryVariables()
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			m := labelValues.FindStringSubmatch(v.queryText())
			if m == nil {
				return nil, fmt.Errorf("dashboard %s, variable %s: %q is not label_values(selector, label)", d.UID, v.Name, v.queryText())
			}
			match, err := expand(m[1], vars)
			if err != nil {
				return nil, fmt.Errorf("dashboard %s, variable %s: %w", d.UID, v.Name, err)
			}
			vs = append(vs, Variable{Dashboard: d.UID, Name: v.Name, Label: m[2], Match: match})
		}
	}
	return vs, nil
}

// queryVariables are the names of the dashboard's query variables.
func (d dashboard) queryVariables() []string {
	var names []string
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			names = append(names, v.Name)
		}
	}
	return names
}

// varRef is a Grafana variable reference: $name, ${name} or ${name:format}.
var varRef = regexp.MustCompile(`\$(?:([a-zA-Z_][a-zA-Z0-9_]*)|\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z]+)?\})`)

// expand replaces the query variables named in vars by ".*" (the
// dashboards' allValue: "All" selected) and Grafana's built-in interval
// variables by fixed values. Any other variable is an error: the
// expression would not be PromQL.
func expand(expr string, vars []string) (string, error) {
	var unknown []string
	out := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		name := varName(ref)
		if v, ok := builtins[name]; ok {
			return v
		}
		if slices.Contains(vars, name) {
			return ".*"
		}
		unknown = append(unknown, ref)
		return ref
	})
	if unknown != nil {
		return "", fmt.Errorf("undefined variables %s in %q", strings.Join(unknown, ", "), expr)
	}
	return out, nil
}

// varRefs are the names of the variables expr refers to.
func varRefs(expr string) []string {
	var names []string
	for _, ref := range varRef.FindAllString(expr, -1) {
		names = append(names, varName(ref))
	}
	return names
}

// varName is the name in a variable reference.
func varName(ref string) string {
	m := varRef.FindStringSubmatch(ref)
	return m[1] + m[2]
}
