package config

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/alerts"
	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/demo"
	"github.com/support-sla/support_sla_exporter/sources/file"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err")

func options() Options {
	return Options{
		Registry: sources.Registry{"file": file.New, "demo": demo.New},
		Now:      func() time.Time { return time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC) },
	}
}

func TestGood(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "good.yml"), options())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 2 {
		t.Fatalf("%d sources, want 2", len(cfg.Sources))
	}
	a, b := cfg.Sources[0], cfg.Sources[1]
	if a.Name != "helpdesk" || a.Type != "file" || a.PolicyName != "acme-support" || a.Interval != 2*time.Minute {
		t.Errorf("first source = %+v", a)
	}
	if b.Interval != DefaultInterval || b.PolicyName != "veeam-vcsp" {
		t.Errorf("second source interval %s policy %s, want the defaults", b.Interval, b.PolicyName)
	}
	if a.Evaluator.Policy.Tiers["premium"] == nil || b.Evaluator.Policy.Tiers["premium"] != nil {
		t.Errorf("policies not resolved: acme-support must have premium (from veeam), veeam-vcsp must not")
	}
	want := map[string]sla.Customer{"acme": {Tier: "premium", Timezone: "Europe/Paris"}, "globex": {Timezone: "America/New_York"}}
	for name, c := range want {
		if cfg.Customers[name] != c || a.Evaluator.Customers[name] != c {
			t.Errorf("customer %s = %+v, want %+v in the config and in each evaluator", name, cfg.Customers[name], c)
		}
	}
	if cfg.Metrics != (Metrics{ByCustomer: true, PerCase: true, MaxCaseSeries: 50}) {
		t.Errorf("metrics = %+v", cfg.Metrics)
	}
	wantAl := Alerting{Alertmanagers: []string{"http://am-0:9093", "https://am-1.example.com"}, ResendInterval: 30 * time.Second,
		LeadTime: DefaultLeadTime, LeadTimes: map[string]time.Duration{"premium": 30 * time.Minute}, WriteBack: true}
	if al := cfg.Alerting; !slices.Equal(al.Alertmanagers, wantAl.Alertmanagers) || al.ResendInterval != wantAl.ResendInterval ||
		al.LeadTime != wantAl.LeadTime || !maps.Equal(al.LeadTimes, wantAl.LeadTimes) || al.WriteBack != wantAl.WriteBack {
		t.Errorf("alerting = %+v, want %+v", al, wantAl)
	}
	if got := cfg.Alerting.LeadTimeOf("premium"); got != 30*time.Minute {
		t.Errorf("premium lead time %s, want 30m", got)
	}
	if got := cfg.Alerting.LeadTimeOf("basic"); got != DefaultLeadTime {
		t.Errorf("basic lead time %s, want the default", got)
	}
	// The objectives given replace the defaults whole.
	if want := map[string]float64{"premium": 0.995, "basic": 0.9}; !maps.Equal(cfg.Report.Objectives, want) {
		t.Errorf("objectives = %v, want %v", cfg.Report.Objectives, want)
	}
}

// Without a report key, or with one that names no objectives, the
// objectives are the defaults; an empty mapping means none.
func TestReportObjectives(t *testing.T) {
	src := "sources:\n  - {name: a, type: file, path: x.json, policy: veeam}\n"
	for _, tt := range []struct {
		name, yaml string
		want       map[string]float64
	}{
		{"absent", "", DefaultObjectives()},
		{"no objectives", "report: {}\n", DefaultObjectives()},
		{"none", "report: {objectives: {}}\n", map[string]float64{}},
		{"one", "report: {objectives: {premium: 1}}\n", map[string]float64{"premium": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("config.yml", []byte(src+tt.yaml), options())
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(cfg.Report.Objectives, tt.want) {
				t.Errorf("objectives = %v, want %v", cfg.Report.Objectives, tt.want)
			}
		})
	}
}

// The default objectives are those the alert rules record, so that the
// report and SupportSLAComplianceBelowObjective agree.
func TestDefaultObjectivesMatchTheAlerts(t *testing.T) {
	var rules struct {
		Groups []struct {
			Rules []struct {
				Record string            `yaml:"record"`
				Expr   string            `yaml:"expr"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(alerts.Rules, &rules); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Record != "support_sla:compliance_objective:ratio" {
				continue
			}
			var v float64
			if _, err := fmt.Sscanf(strings.TrimSpace(r.Expr), "vector(%g)", &v); err != nil {
				t.Fatalf("objective rule %q: %v", r.Expr, err)
			}
			got[r.Labels["tier"]] = v
		}
	}
	if !maps.Equal(got, DefaultObjectives()) {
		t.Errorf("the alert rules' objectives are %v, the report's defaults %v", got, DefaultObjectives())
	}
}

// Each broken file must fail with exactly the errors of its .err file:
// every problem, with its file, line and key path.
func TestBad(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yml"))
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f, options())
			if err == nil {
				t.Fatal("loaded, want errors")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
				if !strings.HasPrefix(line, f+":") {
					t.Errorf("error %q does not name the file", line)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "nope.yml"), options())
	if err == nil || !strings.Contains(err.Error(), "nope.yml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

// The built-in demo must load, under the veeam preset with resolution
// goals added, so that every state can show.
func TestDemo(t *testing.T) {
	cfg, err := Demo(options())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Type != "demo" {
		t.Fatalf("sources = %+v, want one demo source", cfg.Sources)
	}
	p := cfg.Sources[0].Evaluator.Policy
	if p.Tiers["basic"].Targets[sla.FirstResponse][2].Duration != 8*time.Hour {
		t.Errorf("basic severity 2 first response is not veeam's 8 business hours")
	}
	if g := p.Tiers["premium"].Targets[sla.Resolution]; g == nil || !g[1].Pausable {
		t.Errorf("premium has no pausable resolution goal: the demo could never show paused")
	}
	if p.Tiers["free"] == nil || p.Tiers["evaluation"] == nil {
		t.Errorf("the demo policy lost veeam's free or evaluation tier")
	}
}
