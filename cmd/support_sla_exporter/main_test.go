package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testAt is the instant every golden output is computed at: a Tuesday,
// 15:00 in Paris.
var testAt = time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testAt }

// runMain runs the program in-process and returns its exit code and output.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, fixedNow)
	return code, out.String(), errOut.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update if that is intended):\n%s", path, got)
	}
}

func TestCasesJSON(t *testing.T) {
	code, out, errOut := runMain(t, "--config.file=testdata/config.yml", "cases", "--format=json", "--at=2026-03-03T14:00:00Z")
	// Two bad records are reported and skipped; the others are kept.
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"cases.jsonl:12", "cases.jsonl:13: case C-11: severity"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not report %q:\n%s", want, errOut)
		}
	}
	golden(t, "cases.jsonl.golden", out)

	// Every line has exactly the documented fields, in order.
	wantKeys := []string{"source", "case", "key", "customer", "tier", "severity", "target", "state", "goal_seconds", "elapsed_seconds", "remaining_seconds", "consumed_ratio", "due", "stopped"}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		for i := 0; dec.More(); i++ {
			k, _ := dec.Token()
			if i >= len(wantKeys) || k != wantKeys[i] {
				t.Fatalf("field %d is %v, want %s: %s", i, k, wantKeys[min(i, len(wantKeys)-1)], line)
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestCasesTable(t *testing.T) {
	code, out, errOut := runMain(t, "--config.file=testdata/config.yml", "--log.level=error", "cases", "--at=2026-03-03T14:00:00Z")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "cases.table.golden", out)
}

// The default instant is now.
func TestCasesAtDefaultsToNow(t *testing.T) {
	_, withAt, _ := runMain(t, "--config.file=testdata/config.yml", "cases", "--format=json", "--at", testAt.Format(time.RFC3339))
	_, withNow, _ := runMain(t, "--config.file=testdata/config.yml", "cases", "--format=json")
	if withAt != withNow || withNow == "" {
		t.Errorf("cases without --at differs from --at now")
	}
}

func TestExplain(t *testing.T) {
	for _, id := range []string{"SUP-1042", "C-4", "C-5", "C-1", "C-6", "C-2"} {
		t.Run(id, func(t *testing.T) {
			code, out, errOut := runMain(t, "--config.file=testdata/config.yml", "--log.level=error", "explain", id, "--at=2026-03-03T14:00:00Z")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, "explain-"+id+".golden", out)
		})
	}
	code, _, errOut := runMain(t, "--config.file=testdata/config.yml", "--log.level=error", "explain", "NOPE-1")
	if code != 1 || !strings.Contains(errOut, `no case "NOPE-1"`) {
		t.Errorf("unknown case: exit %d, stderr %q", code, errOut)
	}
}

func TestCheckConfig(t *testing.T) {
	code, out, _ := runMain(t, "--config.file=testdata/config.yml", "check-config")
	if code != 0 || !strings.Contains(out, "OK, 1 source(s)") {
		t.Errorf("good config: exit %d, %q", code, out)
	}
	code, _, errOut := runMain(t, "--config.file=../../config/testdata/bad/source-fields.yml", "check-config")
	if code != 1 || strings.Count(errOut, "\n") != 3 {
		t.Errorf("bad config: exit %d, want 1 and three errors:\n%s", code, errOut)
	}
	code, out, _ = runMain(t, "check-config")
	if code != 0 || !strings.Contains(out, "built-in demo") {
		t.Errorf("no config: exit %d, %q; want the demo to check out", code, out)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runMain(t, "version")
	if code != 0 || !strings.Contains(out, "support_sla_exporter, version") || !strings.Contains(out, "go version:") {
		t.Errorf("exit %d, %q", code, out)
	}
}

// Settings come from SUPPORT_SLA_* variables; a flag wins over them.
func TestEnvironmentAndFlags(t *testing.T) {
	t.Setenv("SUPPORT_SLA_CONFIG_FILE", "testdata/config.yml")
	code, out, _ := runMain(t, "check-config")
	if code != 0 || !strings.Contains(out, "testdata/config.yml: OK") {
		t.Errorf("SUPPORT_SLA_CONFIG_FILE ignored: exit %d, %q", code, out)
	}
	code, _, errOut := runMain(t, "--config.file=testdata/nope.yml", "check-config")
	if code != 1 || !strings.Contains(errOut, "nope.yml") {
		t.Errorf("the flag did not win over the environment: exit %d, %q", code, errOut)
	}
	t.Setenv("SUPPORT_SLA_LOG_LEVEL", "loud")
	if code, _, errOut := runMain(t, "check-config"); code != 2 || !strings.Contains(errOut, "log.level") {
		t.Errorf("a bad SUPPORT_SLA_LOG_LEVEL: exit %d, %q; want 2", code, errOut)
	}
}

func TestHelpListsEnvironment(t *testing.T) {
	code, out, _ := runMain(t, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, v := range []string{"SUPPORT_SLA_CONFIG_FILE", "SUPPORT_SLA_LOG_LEVEL", "SUPPORT_SLA_LOG_FORMAT", "(default info)", "cases", "explain", "check-config"} {
		if !strings.Contains(out, v) {
			t.Errorf("--help does not mention %s:\n%s", v, out)
		}
	}
	if code, _, _ := runMain(t, "cases", "--format=yaml"); code != 2 {
		t.Errorf("a bad flag value: exit %d, want 2", code)
	}
}

// The demo shows every state at once, at any instant: here at three.
func TestDemoShowsEveryState(t *testing.T) {
	for _, at := range []time.Time{testAt, time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC), time.Date(2026, 7, 6, 6, 30, 0, 0, time.UTC)} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"cases", "--format=json"}, &out, &errOut, func() time.Time { return at })
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		seen := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var l caseLine
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatal(err)
			}
			seen[l.State]++
		}
		for _, s := range []string{"ok", "warning", "paused", "breached", "met", "missed", "not_applicable", "best_effort", "excluded"} {
			if seen[s] == 0 {
				t.Errorf("at %s the demo shows no %s target: %v", at, s, seen)
			}
		}
	}
}
