package deploy_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/support-sla/support_sla_exporter/alerts"
	"github.com/support-sla/support_sla_exporter/config"
)

var update = flag.Bool("update", false, "rewrite kubernetes/prometheusrule.yaml from alerts/support_sla.rules.yml")

const prometheusRuleFile = "kubernetes/prometheusrule.yaml"

const prometheusRuleHeader = `# GENERATED from alerts/support_sla.rules.yml: do not edit. After changing
# the rules, run ` + "`go test ./deploy/... -update`" + ` to rewrite this file (the
# test fails while it differs). kube-prometheus-stack's Prometheus picks
# rules by label (` + "`release: <its release name>`" + `): add it in your overlay.
`

// prometheusRule is the PrometheusRule holding the rules file's groups.
// It copies their text, indented under spec, rather than re-encoding
// them: comments, folded descriptions and line breaks stay as written.
// TestKustomization checks that the copy means the same groups.
func prometheusRule(rules []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(prometheusRuleHeader)
	buf.WriteString(`apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: support-sla-exporter
  labels:
    app.kubernetes.io/name: support-sla-exporter
spec:
`)
	in, found := false, false
	for l := range strings.Lines(string(rules)) {
		if top := l[0] != ' ' && l[0] != '#' && strings.TrimSpace(l) != ""; top {
			in = strings.HasPrefix(l, "groups:")
			found = found || in
		}
		if !in {
			continue
		}
		if strings.TrimSpace(l) == "" {
			buf.WriteString("\n")
			continue
		}
		buf.WriteString("  " + l)
	}
	if !found {
		return nil, errNoGroups
	}
	b := buf.Bytes()
	if !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	return b, nil
}

var errNoGroups = errors.New("the rules have no top-level groups")

func TestPrometheusRule(t *testing.T) {
	for _, c := range []struct {
		file    string
		wantErr bool
	}{
		{file: "groups-only.yml"},
		{file: "comments-and-block-scalars.yml"},
		{file: "key-after-groups.yml"},
		{file: "no-groups.yml", wantErr: true},
	} {
		rules, err := os.ReadFile(filepath.Join("testdata/prometheusrule", c.file))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(c.file, func(t *testing.T) {
			b, err := prometheusRule(rules)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want one: %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			var got struct {
				Kind string
				Spec struct{ Groups any }
			}
			if err := yaml.Unmarshal(b, &got); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			var want struct{ Groups any }
			if err := yaml.Unmarshal(rules, &want); err != nil {
				t.Fatal(err)
			}
			if got.Kind != "PrometheusRule" || !reflect.DeepEqual(got.Spec.Groups, want.Groups) {
				t.Errorf("got\n%s\nwant the groups of\n%s", b, rules)
			}
		})
	}
}

func TestPrometheusRuleIsGenerated(t *testing.T) {
	want, err := prometheusRule(alerts.Rules)
	if err != nil {
		t.Fatalf("alerts/support_sla.rules.yml: %v", err)
	}
	if *update {
		if err := os.WriteFile(prometheusRuleFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(prometheusRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from alerts/support_sla.rules.yml: run `go test ./deploy/... -update`", prometheusRuleFile)
	}
}

// kustomizeBuild is `kubectl kustomize kubernetes`, by kind.
func kustomizeBuild(t *testing.T) map[string][]*resource.Resource {
	t.Helper()
	dir, err := filepath.Abs("kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	out := map[string][]*resource.Resource{}
	for _, r := range m.Resources() {
		out[r.GetKind()] = append(out[r.GetKind()], r)
	}
	return out
}

// one decodes the only resource of a kind.
func one(t *testing.T, res map[string][]*resource.Resource, kind string, v any) *resource.Resource {
	t.Helper()
	if len(res[kind]) != 1 {
		t.Fatalf("%d %s resources, want 1", len(res[kind]), kind)
	}
	r := res[kind][0]
	b, err := r.AsYAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s %s: %v", kind, r.GetName(), err)
	}
	return r
}

type metadata struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Env   []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type deployment struct {
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata metadata `yaml:"metadata"`
			Spec     struct {
				SecurityContext struct {
					RunAsNonRoot bool   `yaml:"runAsNonRoot"`
					RunAsUser    *int64 `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type service struct {
	Metadata metadata `yaml:"metadata"`
	Spec     struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type serviceMonitor struct {
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Endpoints []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		} `yaml:"endpoints"`
	} `yaml:"spec"`
}

type secret struct {
	Metadata   metadata          `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
}

// values are the Secret's keys and values, decoded.
func (s secret) values(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range s.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("secret %s: data.%s: %v", s.Metadata.Name, k, err)
		}
		out[k] = string(b)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out
}

// subset says whether every label of sel is in labels.
func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// envRef is a ${VAR} reference of the exporter's configuration.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// envRefs are the variables a configuration's values read (comments are
// no values).
func envRefs(t *testing.T, data string) []string {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(data), &n); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			for _, m := range envRef.FindAllStringSubmatch(n.Value, -1) {
				out = append(out, m[1])
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&n)
	return out
}

func TestKustomization(t *testing.T) {
	res := kustomizeBuild(t)

	t.Run("resource kinds", func(t *testing.T) {
		var kinds []string
		for k, rs := range res {
			for range rs {
				kinds = append(kinds, k)
			}
		}
		slices.Sort(kinds)
		want := []string{"ConfigMap", "Deployment", "Namespace", "PrometheusRule", "Secret", "Service", "ServiceMonitor"}
		if !slices.Equal(kinds, want) {
			t.Errorf("kinds %v, want %v", kinds, want)
		}
	})

	var dep deployment
	one(t, res, "Deployment", &dep)
	if len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(dep.Spec.Template.Spec.Containers))
	}
	c := dep.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}

	t.Run("hardened", func(t *testing.T) {
		pod := dep.Spec.Template.Spec.SecurityContext
		if !pod.RunAsNonRoot || pod.RunAsUser == nil || *pod.RunAsUser == 0 {
			t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", pod)
		}
		sc := c.SecurityContext
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Error("allowPrivilegeEscalation is not false")
		}
		if !sc.ReadOnlyRootFilesystem {
			t.Error("readOnlyRootFilesystem is not true")
		}
		if !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
			t.Errorf("capabilities.drop %v, want [ALL]", sc.Capabilities.Drop)
		}
		for _, r := range []struct {
			what string
			m    map[string]string
			keys []string
		}{{"requests", c.Resources.Requests, []string{"cpu", "memory"}}, {"limits", c.Resources.Limits, []string{"memory"}}} {
			for _, k := range r.keys {
				if r.m[k] == "" {
					t.Errorf("resources.%s.%s is not set", r.what, k)
				}
			}
		}
	})

	t.Run("probes and port", func(t *testing.T) {
		const portName = "http-metrics"
		if len(c.Ports) != 1 || c.Ports[0].Name != portName || strconv.Itoa(c.Ports[0].ContainerPort) != defaultPort(t) {
			t.Errorf("ports %+v, want one %s on the default port %s", c.Ports, portName, defaultPort(t))
		}
		for _, p := range []struct {
			name  string
			probe *probe
			path  string
		}{{"liveness", c.LivenessProbe, "/-/healthy"}, {"readiness", c.ReadinessProbe, "/-/ready"}} {
			if p.probe == nil {
				t.Errorf("no %s probe", p.name)
				continue
			}
			if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != portName {
				t.Errorf("%s probe GET %v%s, want %s%s", p.name, p.probe.HTTPGet.Port, p.probe.HTTPGet.Path, portName, p.path)
			}
		}
	})

	t.Run("service and service monitor", func(t *testing.T) {
		var svc service
		one(t, res, "Service", &svc)
		var sm serviceMonitor
		one(t, res, "ServiceMonitor", &sm)
		if !subset(dep.Spec.Selector.MatchLabels, dep.Spec.Template.Metadata.Labels) {
			t.Errorf("the Deployment's selector %v does not select its pods %v", dep.Spec.Selector.MatchLabels, dep.Spec.Template.Metadata.Labels)
		}
		if !subset(svc.Spec.Selector, dep.Spec.Template.Metadata.Labels) {
			t.Errorf("the Service's selector %v does not select the pods %v", svc.Spec.Selector, dep.Spec.Template.Metadata.Labels)
		}
		if !subset(sm.Spec.Selector.MatchLabels, svc.Metadata.Labels) {
			t.Errorf("the ServiceMonitor's selector %v does not select the Service's labels %v", sm.Spec.Selector.MatchLabels, svc.Metadata.Labels)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != c.Ports[0].Name {
			t.Fatalf("Service ports %+v, want one to the container's port %s", svc.Spec.Ports, c.Ports[0].Name)
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name ||
			(sm.Spec.Endpoints[0].Path != "" && sm.Spec.Endpoints[0].Path != "/metrics") {
			t.Errorf("ServiceMonitor endpoints %+v, want /metrics on the Service's port %s", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
		}
	})

	t.Run("prometheus rule holds the rules", func(t *testing.T) {
		var pr struct {
			Spec struct {
				Groups any `yaml:"groups"`
			} `yaml:"spec"`
		}
		one(t, res, "PrometheusRule", &pr)
		var rules struct {
			Groups any `yaml:"groups"`
		}
		if err := yaml.Unmarshal(alerts.Rules, &rules); err != nil {
			t.Fatal(err)
		}
		if rules.Groups == nil || !reflect.DeepEqual(pr.Spec.Groups, rules.Groups) {
			t.Errorf("the PrometheusRule's groups are not those of alerts/support_sla.rules.yml: run `go test ./deploy/... -update`")
		}
	})

	t.Run("configuration and credentials", func(t *testing.T) {
		settings := readmeSettings(t)
		for k := range env {
			if _, ok := settings[k]; strings.HasPrefix(k, "SUPPORT_SLA_") && !ok {
				t.Errorf("env %s is no setting of the exporter (README)", k)
			}
		}
		file := env["SUPPORT_SLA_CONFIG_FILE"]
		if file == "" {
			t.Fatal("no SUPPORT_SLA_CONFIG_FILE: the exporter would run the demo")
		}
		var cm struct {
			Metadata metadata          `yaml:"metadata"`
			Data     map[string]string `yaml:"data"`
		}
		one(t, res, "ConfigMap", &cm)
		// The mount that holds the file must be of the generated ConfigMap
		// (its name with the hash, so that a change rolls the pods).
		var volume string
		for _, m := range c.VolumeMounts {
			if path.Dir(file) == path.Clean(m.MountPath) {
				volume = m.Name
			}
		}
		var cmName string
		for _, v := range dep.Spec.Template.Spec.Volumes {
			if v.Name == volume && v.ConfigMap != nil {
				cmName = v.ConfigMap.Name
			}
		}
		if cmName != cm.Metadata.Name {
			t.Fatalf("%s is mounted from ConfigMap %q, the generated one is %q", file, cmName, cm.Metadata.Name)
		}
		if cmName == "support-sla-exporter-config" {
			t.Error("the ConfigMap has no hash suffix: a change would not roll the pods")
		}
		data, ok := cm.Data[path.Base(file)]
		if !ok {
			t.Fatalf("ConfigMap %s has no key %s", cm.Metadata.Name, path.Base(file))
		}

		var sec secret
		one(t, res, "Secret", &sec)
		if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != sec.Metadata.Name {
			t.Fatalf("envFrom %+v, want the Secret %s", c.EnvFrom, sec.Metadata.Name)
		}
		values := sec.values(t)
		refs := envRefs(t, data)
		if len(refs) == 0 {
			t.Error("the configuration reads no ${VAR}: the example should show credentials from the Secret")
		}
		for _, v := range refs {
			if _, ok := values[v]; !ok {
				t.Errorf("the configuration reads ${%s}, which the Secret %s does not hold", v, sec.Metadata.Name)
			}
		}
		// The pod's environment, then the exporter's own loading.
		for k, v := range values {
			t.Setenv(k, v)
		}
		f := filepath.Join(t.TempDir(), path.Base(file))
		if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(f, config.Options{Registry: registry()}); err != nil {
			t.Errorf("the ConfigMap's configuration: %v", err)
		}
	})
}
