package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const unitFile = "systemd/support_sla_exporter.service"

// unitKeys are a unit's `Key=value` lines by section and key, in order.
func unitKeys(t *testing.T, file string) map[string][]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "["):
			section = strings.Trim(l, "[]")
		default:
			k, v, _ := strings.Cut(l, "=")
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	keys := unitKeys(t, unitFile)
	for _, c := range []struct{ key, want string }{
		{"Service.ExecReload", "/bin/kill -HUP $MAINPID"}, // the exporter reloads on SIGHUP
		{"Service.Restart", "on-failure"},
		{"Service.EnvironmentFile", "/etc/default/support_sla_exporter"},
		{"Service.User", "support_sla_exporter"},
		{"Service.NoNewPrivileges", "yes"},
		{"Service.ProtectSystem", "strict"},
		{"Service.ProtectHome", "yes"},
		{"Service.PrivateTmp", "yes"},
		{"Service.CapabilityBoundingSet", ""},
		{"Install.WantedBy", "multi-user.target"},
	} {
		if got := keys[c.key]; !slices.Equal(got, []string{c.want}) {
			t.Errorf("%s=%q, want %q", c.key, got, c.want)
		}
	}
	if exec := keys["Service.ExecStart"]; len(exec) != 1 || !strings.HasSuffix(strings.Fields(exec[0])[0], "/support_sla_exporter") {
		t.Errorf("ExecStart=%q, want the support_sla_exporter binary", exec)
	}
}

// TestSystemdEnvironmentFile: the example /etc/default file sets only
// settings the exporter reads (a misspelt one would be ignored).
func TestSystemdEnvironmentFile(t *testing.T) {
	settings := readmeSettings(t)
	f, err := os.Open("systemd/support_sla_exporter.default")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimLeft(strings.TrimSpace(sc.Text()), "#")
		k, _, ok := strings.Cut(l, "=")
		if !ok || !strings.HasPrefix(k, "SUPPORT_SLA_") {
			continue
		}
		n++
		if _, ok := settings[k]; !ok {
			t.Errorf("%s is no setting of the exporter (README)", k)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("the environment file sets no SUPPORT_SLA_ setting")
	}
}

// TestSystemdAnalyzeVerify runs systemd's own check of the unit. Its
// binary is not installed here, so ExecStart names an executable that
// exists (this test's); every other line is checked as written.
func TestSystemdAnalyzeVerify(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(b), "ExecStart=/usr/local/bin/support_sla_exporter", "ExecStart="+self)
	if unit == string(b) {
		t.Fatal("ExecStart=/usr/local/bin/support_sla_exporter not found")
	}
	file := filepath.Join(t.TempDir(), filepath.Base(unitFile))
	if err := os.WriteFile(file, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", file).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Warnings (an unknown key, a bad value) exit 0: fail on any line
	// about this unit. Lines about other units on the machine are theirs.
	for l := range strings.Lines(string(out)) {
		if strings.Contains(l, file) || strings.Contains(l, filepath.Base(unitFile)+":") {
			t.Errorf("systemd-analyze verify: %s", strings.TrimSpace(l))
		}
	}
}
