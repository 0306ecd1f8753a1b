package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	amconfig "github.com/prometheus/alertmanager/config"
	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/demo"
	"github.com/support-sla/support_sla_exporter/sources/jira"
)

// registry holds the source types the example configurations use. The
// tests load them in process (config.Load) rather than through `go run …
// check-config`: no build of the binary, errors in the test's output. A
// new type in an example needs a line here.
func registry() sources.Registry {
	return sources.Registry{"demo": demo.New, "jira": jira.New}
}

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"docker-compose.yml"},
		cli.WithWorkingDirectory("."), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"alertmanager", "exporter", "grafana", "prometheus"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		s := p.Services[name]
		if s.Build != nil {
			if s.Build.Context != root || s.Build.Dockerfile != "deploy/Dockerfile" {
				t.Errorf("%s: build %s -f %s, want the repository root and deploy/Dockerfile", name, s.Build.Context, s.Build.Dockerfile)
			}
			continue
		}
		_, tag, ok := strings.Cut(s.Image[strings.LastIndex(s.Image, "/")+1:], ":")
		if !ok || tag == "latest" {
			t.Errorf("%s: image %s: pin a tag", name, s.Image)
		}
	}
}

func TestComposeBindMountsExist(t *testing.T) {
	p := loadCompose(t)
	n := 0
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			n++
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: bind mount of %s: %v", name, v.Target, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no bind mount found")
	}
}

// containerFS lays out a service's bind mounts in a temporary folder as
// the container sees them, so that the configurations can be checked
// with the paths they use in the container.
func containerFS(t *testing.T, s types.ServiceConfig) string {
	t.Helper()
	root := t.TempDir()
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		dst := filepath.Join(root, v.Target)
		fi, err := os.Stat(v.Source)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			if err := os.CopyFS(dst, os.DirFS(v.Source)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(v.Source)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// flagValue is --name=value of a service's command.
func flagValue(t *testing.T, s types.ServiceConfig, name string) string {
	t.Helper()
	for _, a := range s.Command {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	t.Fatalf("%s: no --%s= in its command %v", s.Name, name, s.Command)
	return ""
}

// containerPort is the port a service publishes from its container.
func containerPort(t *testing.T, s types.ServiceConfig) string {
	t.Helper()
	if len(s.Ports) != 1 {
		t.Fatalf("%s: %d published ports, want 1", s.Name, len(s.Ports))
	}
	return strconv.Itoa(int(s.Ports[0].Target))
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestComposeContainers checks each service's configuration as its
// container sees it, and that the services name each other right.
func TestComposeContainers(t *testing.T) {
	p := loadCompose(t)
	svc := func(name string) types.ServiceConfig {
		s, ok := p.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		return s
	}
	for _, c := range []struct {
		service string
		check   func(t *testing.T, s types.ServiceConfig, root string)
	}{
		{"exporter", func(t *testing.T, s types.ServiceConfig, root string) {
			settings := readmeSettings(t)
			for k := range s.Environment {
				if _, ok := settings[k]; strings.HasPrefix(k, "SUPPORT_SLA_") && !ok {
					t.Errorf("environment %s is no setting of the exporter (README)", k)
				}
			}
			file := s.Environment["SUPPORT_SLA_CONFIG_FILE"]
			if file == nil {
				t.Fatal("no SUPPORT_SLA_CONFIG_FILE: it would run the demo without per-case series")
			}
			cfg, err := config.Load(filepath.Join(root, *file), config.Options{Registry: registry()})
			if err != nil {
				t.Fatalf("%s: %v", *file, err)
			}
			if !cfg.Metrics.PerCase {
				t.Error("metrics.per_case is off: the At risk dashboard would be empty")
			}
			if got, want := containerPort(t, s), defaultPort(t); got != want {
				t.Errorf("publishes container port %s, the exporter listens on %s", got, want)
			}
		}},
		{"prometheus", func(t *testing.T, s types.ServiceConfig, root string) {
			file := filepath.Join(root, flagValue(t, s, "config.file"))
			var prom struct {
				Alerting struct {
					Alertmanagers []struct {
						StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
					}
				}
				ScrapeConfigs []struct {
					JobName        string                       `yaml:"job_name"`
					ScrapeInterval string                       `yaml:"scrape_interval"`
					StaticConfigs  []struct{ Targets []string } `yaml:"static_configs"`
				} `yaml:"scrape_configs"`
			}
			readYAML(t, file, &prom)
			exporter := "exporter:" + containerPort(t, svc("exporter"))
			scraped := false
			for _, j := range prom.ScrapeConfigs {
				for _, sc := range j.StaticConfigs {
					if slices.Contains(sc.Targets, exporter) {
						scraped = true
						if j.ScrapeInterval != "15s" {
							t.Errorf("job %s scrapes the exporter every %q, want 15s", j.JobName, j.ScrapeInterval)
						}
					}
				}
			}
			if !scraped {
				t.Errorf("no scrape job has target %s", exporter)
			}
			am := "alertmanager:" + containerPort(t, svc("alertmanager"))
			if len(prom.Alerting.Alertmanagers) != 1 || len(prom.Alerting.Alertmanagers[0].StaticConfigs) != 1 ||
				!slices.Equal(prom.Alerting.Alertmanagers[0].StaticConfigs[0].Targets, []string{am}) {
				t.Errorf("alerting %+v, want the one target %s", prom.Alerting, am)
			}
			// promtool reads the rule files too, relative to the
			// configuration: the mounts must put them where it says.
			out, err := exec.Command(needTool(t, "promtool"), "check", "config", file).CombinedOutput()
			if err != nil {
				t.Errorf("promtool check config: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "support_sla.rules.yml") {
				t.Errorf("promtool checked no rule file:\n%s", out)
			}
		}},
		{"alertmanager", func(t *testing.T, s types.ServiceConfig, root string) {
			file := flagValue(t, s, "config.file")
			if _, err := amconfig.LoadFile(filepath.Join(root, file)); err != nil {
				t.Errorf("%s: %v", file, err)
			}
		}},
		{"grafana", func(t *testing.T, s types.ServiceConfig, root string) {
			var ds struct {
				Datasources []struct {
					Type, URL string
					IsDefault bool `yaml:"isDefault"`
				}
			}
			readYAML(t, filepath.Join(root, "/etc/grafana/provisioning/datasources/prometheus.yml"), &ds)
			prom := "http://prometheus:" + containerPort(t, svc("prometheus"))
			if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != prom || !ds.Datasources[0].IsDefault {
				t.Errorf("datasources %+v, want one default prometheus at %s", ds.Datasources, prom)
			}

			var dash struct {
				Providers []struct {
					Type    string
					Options struct{ Path string }
				}
			}
			readYAML(t, filepath.Join(root, "/etc/grafana/provisioning/dashboards/support_sla.yml"), &dash)
			if len(dash.Providers) != 1 || dash.Providers[0].Type != "file" {
				t.Fatalf("dashboard providers %+v, want one of type file", dash.Providers)
			}
			jsons, err := filepath.Glob(filepath.Join(root, dash.Providers[0].Options.Path, "*.json"))
			if err != nil || len(jsons) == 0 {
				t.Errorf("no dashboard (*.json) at the provider's path %s (%v)", dash.Providers[0].Options.Path, err)
			}
			if home := s.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != nil {
				if _, err := os.Stat(filepath.Join(root, *home)); err != nil {
					t.Errorf("home dashboard: %v", err)
				}
			}
		}},
	} {
		t.Run(c.service, func(t *testing.T) {
			s := svc(c.service)
			c.check(t, s, containerFS(t, s))
		})
	}
}
