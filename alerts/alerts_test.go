package alerts_test

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/alerts"
	"github.com/support-sla/support_sla_exporter/collector"
)

const runbookBase = "https://github.com/support-sla/support_sla_exporter/blob/main/alerts/RUNBOOK.md#"

// specAlerts are the alert names of shared/spec/interfaces.md.
var specAlerts = []string{
	"SupportSLABacklogGrowing",
	"SupportSLABreachImminent",
	"SupportSLABreached",
	"SupportSLACaseBreachImminent",
	"SupportSLAComplianceBelowObjective",
	"SupportSLASourceDown",
	"SupportSLASourceStale",
}

// recordingRules are the names the dashboards and the other helpers of
// issue 6 rely on.
var recordingRules = []string{
	"support_sla:breach_lead_time:seconds",
	"support_sla:compliance_objective:ratio",
	"support_sla:month_compliance:ratio",
}

func loadRules(t *testing.T) []rulefmt.Rule {
	t.Helper()
	groups, errs := rulefmt.Parse(alerts.Rules, false, model.LegacyValidation,
		parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if groups == nil || len(errs) > 0 {
		t.FailNow()
	}
	var rules []rulefmt.Rule
	for _, g := range groups.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// alertRules maps each alert of the rules file to its rule.
func alertRules(t *testing.T) map[string]rulefmt.Rule {
	t.Helper()
	m := map[string]rulefmt.Rule{}
	for _, r := range loadRules(t) {
		if r.Alert != "" {
			m[r.Alert] = r
		}
	}
	return m
}

func TestRuleNames(t *testing.T) {
	var records, alertNames []string
	for _, r := range loadRules(t) {
		if r.Record != "" {
			if len(alertNames) > 0 {
				t.Errorf("recording rule %s comes after an alert: recording rules go first", r.Record)
			}
			if !slices.Contains(records, r.Record) {
				records = append(records, r.Record)
			}
			continue
		}
		if slices.Contains(alertNames, r.Alert) {
			t.Errorf("alert %s is defined twice", r.Alert)
		}
		alertNames = append(alertNames, r.Alert)
	}
	slices.Sort(records)
	slices.Sort(alertNames)
	if !slices.Equal(records, recordingRules) {
		t.Errorf("recording rules = %v, want %v", records, recordingRules)
	}
	if !slices.Equal(alertNames, specAlerts) {
		t.Errorf("alerts = %v, want the spec's %v", alertNames, specAlerts)
	}
}

// runbookAnchors are the GitHub anchors of the "## " headings of RUNBOOK.md.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("RUNBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	notSlug := regexp.MustCompile(`[^a-z0-9 _-]`)
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			slug := notSlug.ReplaceAllString(strings.ToLower(strings.TrimSpace(h)), "")
			anchors[strings.ReplaceAll(slug, " ", "-")] = true
		}
	}
	return anchors
}

func TestAlertLabelsAndAnnotations(t *testing.T) {
	// The routing of alertmanager.yml depends on these: an imminent breach
	// of a basic case must not page through severity=critical.
	tests := []struct {
		alert    string
		severity string
		maxFor   time.Duration
	}{
		{"SupportSLABreachImminent", "warning", time.Minute},
		{"SupportSLACaseBreachImminent", "warning", time.Minute},
		{"SupportSLABreached", "warning", time.Minute},
		{"SupportSLAComplianceBelowObjective", "warning", 2 * time.Hour},
		{"SupportSLABacklogGrowing", "info", 2 * time.Hour},
		{"SupportSLASourceDown", "critical", 10 * time.Minute},
		{"SupportSLASourceStale", "warning", 10 * time.Minute},
	}
	rules := alertRules(t)
	anchors := runbookAnchors(t)
	if len(anchors) != len(specAlerts) {
		t.Errorf("RUNBOOK.md has %d '## ' sections, want one per alert (%d)", len(anchors), len(specAlerts))
	}
	for _, tt := range tests {
		t.Run(tt.alert, func(t *testing.T) {
			r, ok := rules[tt.alert]
			if !ok {
				t.Fatal("no such alert")
			}
			if got := r.Labels["severity"]; got != tt.severity {
				t.Errorf("severity = %q, want %q", got, tt.severity)
			}
			if _, ok := r.Labels["case_severity"]; ok {
				t.Error("case_severity is the case's label, not the rule's")
			}
			if d := time.Duration(r.For); d > tt.maxFor {
				t.Errorf("for = %v, want at most %v", d, tt.maxFor)
			}
			summary := r.Annotations["summary"]
			if summary == "" || strings.Contains(summary, "{{") || !strings.HasSuffix(summary, ".") {
				t.Errorf("summary %q: want a static sentence ending with a period", summary)
			}
			if d := r.Annotations["description"]; !strings.Contains(d, "{{") {
				t.Errorf("description %q: want a template", d)
			}
			want := runbookBase + strings.ToLower(tt.alert)
			if got := r.Annotations["runbook_url"]; got != want {
				t.Errorf("runbook_url = %q, want %q", got, want)
			}
			if !anchors[strings.ToLower(tt.alert)] {
				t.Errorf("RUNBOOK.md has no '## %s' section", tt.alert)
			}
		})
	}
}

// TestMetricNames: every metric an expression or a description's query
// names is one the exporter exposes or a recording rule of the file.
func TestMetricNames(t *testing.T) {
	known := map[string]bool{}
	for _, n := range collector.MetricNames() {
		known[n] = true
	}
	for _, n := range recordingRules {
		known[n] = true
	}
	isKnown := func(name string) bool {
		for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && known[base] {
				return true
			}
		}
		return false
	}
	p := parser.NewParser(parser.Options{})
	inTemplate := regexp.MustCompile(`support_sla[a-zA-Z0-9_:]*`)
	for _, r := range loadRules(t) {
		name := r.Alert + r.Record
		expr, err := p.ParseExpr(r.Expr)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		selectors := 0
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				selectors++
				if !isKnown(vs.Name) {
					t.Errorf("%s: expression uses unknown metric %q", name, vs.Name)
				}
			}
			return nil
		})
		if r.Alert != "" && selectors == 0 {
			t.Errorf("%s: expression selects no metric", name)
		}
		for key, text := range r.Annotations {
			if key == "runbook_url" {
				continue // the repository's name matches the pattern
			}
			for _, m := range inTemplate.FindAllString(text, -1) {
				if !isKnown(m) {
					t.Errorf("%s: annotation %s uses unknown metric %q", name, key, m)
				}
			}
		}
	}
}

// TestUnitTestsCoverEveryAlert: each alert has a promtool case where it
// fires (with its labels and annotations) and one where it does not.
func TestUnitTestsCoverEveryAlert(t *testing.T) {
	type alertTest struct {
		Alertname string `yaml:"alertname"`
		ExpAlerts []struct {
			ExpLabels      map[string]string `yaml:"exp_labels"`
			ExpAnnotations map[string]string `yaml:"exp_annotations"`
		} `yaml:"exp_alerts"`
	}
	files := testFiles(t)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tests []struct {
				AlertRuleTest []alertTest `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range doc.Tests {
			for _, at := range tc.AlertRuleTest {
				if len(at.ExpAlerts) == 0 {
					quiet[at.Alertname] = true
				}
				for _, a := range at.ExpAlerts {
					if a.ExpLabels["severity"] != "" && a.ExpAnnotations["description"] != "" {
						fires[at.Alertname] = true
					}
				}
			}
		}
	}
	for _, a := range specAlerts {
		if !fires[a] {
			t.Errorf("%s: no unit test where it fires with its labels and annotations", a)
		}
		if !quiet[a] {
			t.Errorf("%s: no unit test where it does not fire", a)
		}
	}
}

func testFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("tests", "*_test.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tests/*_test.yml (%v)", err)
	}
	return files
}

func loadAlertmanager(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load(string(alerts.Alertmanager))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// labelsOf is an alert as Prometheus sends it: the rule's labels, its name
// and the labels of the series.
func labelsOf(t *testing.T, rules map[string]rulefmt.Rule, alert string, series model.LabelSet) model.LabelSet {
	t.Helper()
	r, ok := rules[alert]
	if !ok {
		t.Fatalf("no alert %s in the rules", alert)
	}
	ls := model.LabelSet{model.AlertNameLabel: model.LabelValue(alert)}
	for k, v := range r.Labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	for k, v := range series {
		ls[k] = v
	}
	return ls
}

func TestAlertmanagerReceivers(t *testing.T) {
	cfg := loadAlertmanager(t)
	var names []string
	for _, rcv := range cfg.Receivers {
		names = append(names, rcv.Name)
		integrations := 0
		v := reflect.ValueOf(rcv)
		for i := range v.NumField() {
			if strings.HasSuffix(v.Type().Field(i).Name, "Configs") {
				integrations += v.Field(i).Len()
			}
		}
		if integrations != 1 || len(rcv.WebhookConfigs) != 1 {
			t.Errorf("receiver %s: %d integrations, %d webhooks; want exactly one webhook", rcv.Name, integrations, len(rcv.WebhookConfigs))
			continue
		}
		if !rcv.WebhookConfigs[0].SendResolved() {
			t.Errorf("receiver %s: send_resolved is off", rcv.Name)
		}
	}
	slices.Sort(names)
	if want := []string{"sla-page", "sla-ticket"}; !slices.Equal(names, want) {
		t.Errorf("receivers = %v, want %v", names, want)
	}
	if cfg.Route.Receiver != "sla-ticket" {
		t.Errorf("root receiver = %q, want sla-ticket", cfg.Route.Receiver)
	}
	want := []model.LabelName{"alertname", "source", "tier", "case_severity"}
	if !slices.Equal(cfg.Route.GroupBy, want) {
		t.Errorf("group_by = %v, want %v", cfg.Route.GroupBy, want)
	}
}

func TestAlertmanagerRouting(t *testing.T) {
	rules := alertRules(t)
	route := dispatch.NewRoute(loadAlertmanager(t).Route, nil)
	target := func(tier, sev, target string) model.LabelSet {
		return model.LabelSet{"source": "hd", "tier": model.LabelValue(tier), "case_severity": model.LabelValue(sev), "target": model.LabelValue(target)}
	}
	withCase := func(ls model.LabelSet) model.LabelSet {
		ls["case"], ls["customer"] = "C-1", "acme"
		return ls
	}
	tests := []struct {
		name   string
		alert  string
		series model.LabelSet
		want   string
	}{
		{"imminent premium sev 1", "SupportSLABreachImminent", target("premium", "1", "first_response"), "sla-page"},
		{"imminent production sev 2", "SupportSLABreachImminent", target("production", "2", "resolution"), "sla-page"},
		{"imminent basic sev 1", "SupportSLABreachImminent", target("basic", "1", "first_response"), "sla-ticket"},
		{"imminent premium sev 3", "SupportSLABreachImminent", target("premium", "3", "first_response"), "sla-ticket"},
		{"case imminent production sev 2", "SupportSLACaseBreachImminent", withCase(target("production", "2", "first_response")), "sla-page"},
		{"case imminent premium sev 4", "SupportSLACaseBreachImminent", withCase(target("premium", "4", "first_response")), "sla-ticket"},
		{"case imminent basic sev 1", "SupportSLACaseBreachImminent", withCase(target("basic", "1", "first_response")), "sla-ticket"},
		{"breached premium sev 1", "SupportSLABreached", target("premium", "1", "first_response"), "sla-ticket"},
		{"compliance", "SupportSLAComplianceBelowObjective", model.LabelSet{"source": "hd", "tier": "premium"}, "sla-ticket"},
		{"backlog", "SupportSLABacklogGrowing", model.LabelSet{"source": "hd", "tier": "basic"}, "sla-ticket"},
		{"source down", "SupportSLASourceDown", model.LabelSet{"source": "hd"}, "sla-page"},
		{"source stale", "SupportSLASourceStale", model.LabelSet{"source": "hd"}, "sla-ticket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := labelsOf(t, rules, tt.alert, tt.series)
			var got []string
			for _, r := range route.Match(ls) {
				got = append(got, r.RouteOpts.Receiver)
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("%v goes to %v, want [%s]", ls, got, tt.want)
			}
		})
	}
	// Any other critical alert pages.
	other := model.LabelSet{model.AlertNameLabel: "SomethingElse", "severity": "critical"}
	if got := route.Match(other); len(got) != 1 || got[0].RouteOpts.Receiver != "sla-page" {
		t.Errorf("another critical alert does not page")
	}
}

func TestAlertmanagerInhibition(t *testing.T) {
	rules := alertRules(t)
	cfg := loadAlertmanager(t)
	if len(cfg.InhibitRules) != 1 {
		t.Fatalf("%d inhibit rules, want 1", len(cfg.InhibitRules))
	}
	ir := cfg.InhibitRules[0]
	if !slices.Equal(ir.Equal, []string{"source"}) {
		t.Errorf("equal = %v, want [source]", ir.Equal)
	}
	src, tgt := amlabels.Matchers(ir.SourceMatchers), amlabels.Matchers(ir.TargetMatchers)
	series := model.LabelSet{"source": "hd", "tier": "premium", "case_severity": "1", "target": "first_response", "case": "C-1", "customer": "acme"}
	tests := []struct {
		alert          string
		source, target bool
	}{
		{"SupportSLASourceDown", true, false},
		{"SupportSLASourceStale", false, false},
		{"SupportSLABreachImminent", false, true},
		{"SupportSLACaseBreachImminent", false, true},
		{"SupportSLABreached", false, true},
		{"SupportSLAComplianceBelowObjective", false, true},
		{"SupportSLABacklogGrowing", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.alert, func(t *testing.T) {
			ls := labelsOf(t, rules, tt.alert, series)
			if got := src.Matches(ls); got != tt.source {
				t.Errorf("source matchers %v match: %v, want %v", src, got, tt.source)
			}
			if got := tgt.Matches(ls); got != tt.target {
				t.Errorf("target matchers %v match: %v, want %v", tgt, got, tt.target)
			}
		})
	}
}

// TestTools runs the Prometheus and Alertmanager checkers on the files,
// when they are installed.
func TestTools(t *testing.T) {
	tests := []struct {
		name string
		tool string
		args []string
	}{
		{"check rules", "promtool", []string{"check", "rules", "support_sla.rules.yml"}},
		{"test rules", "promtool", append([]string{"test", "rules"}, testFiles(t)...)},
		{"check-config", "amtool", []string{"check-config", "alertmanager.yml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, err := exec.LookPath(tt.tool)
			if err != nil {
				t.Skipf("%s is not installed", tt.tool)
			}
			out, err := exec.Command(path, tt.args...).CombinedOutput()
			if err != nil {
				t.Errorf("%s %s: %v\n%s", tt.tool, strings.Join(tt.args, " "), err, out)
			}
		})
	}
}
