package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository, from deploy/ where the tests run.
const repoRoot = ".."

// needTool skips a test whose tool is missing. The e2e runner fails a
// skip that says "is not installed", so the check is not silently lost
// where the tool should be.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed", name)
	}
	return p
}

// setting is a row of the README's process-settings table.
type setting struct{ env, flag, def string }

// settingRow is `| `SUPPORT_SLA_X` | `--x` | `default` or words |`.
var settingRow = regexp.MustCompile("^\\| `(SUPPORT_SLA_[A-Z_]+)` \\| `(--[a-z.-]+)` \\| (.*) \\|$")

// readmeSettings are the exporter's environment variables as the README
// documents them: the deployment files must use these names.
func readmeSettings(t *testing.T) map[string]setting {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]setting{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := settingRow.FindStringSubmatch(sc.Text()); m != nil {
			def := m[3]
			if strings.HasPrefix(def, "`") {
				def = strings.Trim(strings.SplitN(def, "` ", 2)[0], "`")
			}
			out[m[1]] = setting{env: m[1], flag: m[2], def: def}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("README.md: no row of the process-settings table found (| `SUPPORT_SLA_…` | `--…` | … |)")
	}
	return out
}

// defaultPort is the exporter's default port, from the README's
// SUPPORT_SLA_LISTEN_ADDRESS default (":9747").
func defaultPort(t *testing.T) string {
	t.Helper()
	s, ok := readmeSettings(t)["SUPPORT_SLA_LISTEN_ADDRESS"]
	if !ok || !strings.HasPrefix(s.def, ":") {
		t.Fatalf("README.md: no default :PORT for SUPPORT_SLA_LISTEN_ADDRESS (%+v)", s)
	}
	return strings.TrimPrefix(s.def, ":")
}

// goLine is go.mod's `go` version.
func goLine(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}
