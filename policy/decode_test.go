package policy

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

var update = flag.Bool("update", false, "rewrite the expected testdata/bad/*.err files")

// testFiles returns the files matching a glob of testdata, failing when
// there are none: a test over no files would pass vacuously.
func testFiles(t *testing.T, glob string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/%s: %v", glob, err)
	}
	return files
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mustParse parses a policy file given inline and fails on any problem.
func mustParse(t *testing.T, src string) map[string]*sla.Policy {
	t.Helper()
	ps, err := Parse("test.yml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return ps
}

// TestBadFiles checks the exact problems reported for each broken file
// against its .err file; -update rewrites those.
func TestBadFiles(t *testing.T) {
	for _, file := range testFiles(t, "bad/*.yml") {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yml"), func(t *testing.T) {
			ps, err := Parse(name, readFile(t, file))
			if err == nil {
				t.Fatalf("Parse succeeded, want errors")
			}
			if ps != nil {
				t.Errorf("Parse returned policies with its errors")
			}
			var es strictyaml.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, want strictyaml.Errors", err)
			}
			for _, e := range es {
				if e.File != name || e.Line <= 0 {
					t.Errorf("error %q does not name the file and a line", e)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := string(readFile(t, golden))
			if got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestManyErrors checks that every problem of a file is reported, in line
// order, and that none hides another.
func TestManyErrors(t *testing.T) {
	_, err := Parse("many-errors.yml", readFile(t, "testdata/bad/many-errors.yml"))
	var es strictyaml.Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse: %v, want strictyaml.Errors", err)
	}
	type where struct {
		line int
		path string
	}
	want := []where{
		{4, "policies.acme.default_tier"},
		{5, "policies.acme.warning_ratio"},
		{6, "policies.acme.pause_statuses[0]"},
		{9, "policies.acme.calendars.business.timezone"},
		{11, "policies.acme.calendars.business.hours.mon[1]"},
		{12, "policies.acme.calendars.business.hours.fri[0]"},
		{14, "policies.acme.calendars.business.holidays.country"},
		{15, "policies.acme.calendars.business.holidays.dates[0]"},
		{17, "policies.acme.calendars.business.exclusions[0].weeks[0]"},
		{20, "policies.acme.tiers.basic.calendar"},
		{21, "policies.acme.tiers.basic.first_response.0"},
		{21, "policies.acme.tiers.basic.first_response.2"},
		{22, "policies.acme.tiers.basic.resolution.1.pausable"},
		{22, "policies.acme.tiers.basic.resolution.1.calendar"},
		{23, "policies.acme.tiers.free"},
		{25, "policies.acme.exclude[0]"},
		{27, "policies.other.preset"},
		{28, "policies.other"},
	}
	var got []where
	for _, e := range es {
		got = append(got, where{e.Line, e.Path})
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("error %d at %v, want %v\n%v", i, got[i], want[i], es[i])
		}
	}
}

// TestGoodFiles checks that the examples parse and that each policy in
// them is usable.
func TestGoodFiles(t *testing.T) {
	for _, file := range testFiles(t, "good/*.yml") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ps, err := Parse(filepath.Base(file), readFile(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 0 {
				t.Fatal("no policies")
			}
			for name, p := range ps {
				if p.Name != name {
					t.Errorf("policy %s is named %q", name, p.Name)
				}
				if err := p.Validate(); err != nil {
					t.Errorf("policy %s: %v", name, err)
				}
			}
		})
	}
}

// TestSpecExample checks the decoding of the spec's example value by value.
func TestSpecExample(t *testing.T) {
	ps, err := Parse("spec.yml", readFile(t, "testdata/good/spec-example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p := ps["acme-support"]
	if p == nil {
		t.Fatal("no policy acme-support")
	}
	if p.DefaultTier != "basic" || p.DefaultSeverity != 3 || p.WarningRatio != 0.75 {
		t.Errorf("defaults: tier %q severity %d ratio %g", p.DefaultTier, p.DefaultSeverity, p.WarningRatio)
	}
	if len(p.PauseStatuses) != 1 || p.PauseStatuses[0] != sla.StatusPendingCustomer {
		t.Errorf("pause_statuses = %v", p.PauseStatuses)
	}
	c := p.Calendars["business"]
	if c == nil {
		t.Fatal("no calendar business")
	}
	if c.Name != "business" || c.Location.String() != "Europe/Paris" || !c.CustomerTimezone {
		t.Errorf("calendar: name %q zone %v customer %v", c.Name, c.Location, c.CustomerTimezone)
	}
	checkHours(t, c, map[time.Weekday][]string{
		time.Monday: {"08:00-20:00"}, time.Tuesday: {"08:00-20:00"}, time.Wednesday: {"08:00-20:00"},
		time.Thursday: {"08:00-20:00"}, time.Friday: {"08:00-12:00", "13:00-20:00"},
	})
	wantDates := []sla.Date{{Year: 2026, Month: 12, Day: 25}, {Year: 2027, Month: 1, Day: 1}}
	if len(c.HolidayDates) != 2 || c.HolidayDates[0] != wantDates[0] || c.HolidayDates[1] != wantDates[1] {
		t.Errorf("holiday dates = %v, want %v", c.HolidayDates, wantDates)
	}
	if !hasHoliday(c, 2026, time.July, 14) || !hasHoliday(c, 2026, time.May, 1) {
		t.Errorf("country FR: no 14 July or 1 May among %d holidays", len(c.Holidays))
	}
	checkExclusions(t, c, []sla.Exclusion{{Weekday: time.Wednesday, Weeks: []int{1, -3, -2, -1}, Range: sla.ClockRange{From: 0, To: 360}}})
	if ca := p.Calendars["24x7"]; ca == nil || !ca.IsAlwaysOpen() {
		t.Errorf("Calendars[24x7] = %v, want the built-in calendar", ca)
	}
	basic := p.Tiers["basic"]
	if basic.Calendar != c {
		t.Errorf("tier basic counts in %v, want business", basic.Calendar.Name)
	}
	res := basic.Targets[sla.Resolution]
	if res == nil || res[1].Kind != sla.GoalDuration || res[1].Duration != 8*time.Hour ||
		!res[1].Calendar.IsAlwaysOpen() || !res[1].Pausable || res[2].Kind != sla.GoalNone {
		t.Errorf("tier basic resolution = %+v", res)
	}
	if fr := basic.Targets[sla.FirstResponse]; fr[2].Pausable || fr[2].Calendar != c {
		t.Errorf("tier basic first_response 2 = %+v, want not pausable, in business", fr[2])
	}
	if p.Tiers["free"].Targets[sla.Resolution] != nil {
		t.Errorf("tier free has a resolution target, want none")
	}
	want := []sla.ExclusionRule{{Label: "experimental"}, {Type: "feedback"}}
	if len(p.Exclude) != 2 || p.Exclude[0] != want[0] || p.Exclude[1] != want[1] {
		t.Errorf("exclude = %v, want %v", p.Exclude, want)
	}
}

// TestForms checks the forms of the format that only testdata/good/forms.yml
// uses.
func TestForms(t *testing.T) {
	p := mustParse(t, string(readFile(t, "testdata/good/forms.yml")))["forms"]
	if len(p.PauseStatuses) != 0 {
		t.Errorf("pause_statuses = %v, want none", p.PauseStatuses)
	}
	if p.DefaultTier != "" || p.DefaultSeverity != 3 || p.WarningRatio != 0.75 {
		t.Errorf("defaults: tier %q severity %d ratio %g", p.DefaultTier, p.DefaultSeverity, p.WarningRatio)
	}
	c := p.Calendars["regional"]
	if c.CustomerTimezone {
		t.Error("customer_timezone defaults to true")
	}
	checkHours(t, c, map[time.Weekday][]string{time.Monday: {"00:00-12:00", "12:00-24:00"}, time.Tuesday: {"09:00-17:00"}})
	// One holiday that only each code has: de-by Epiphany, CH-ZH the Swiss
	// national day, AU-NSW Australia Day, us Independence Day (observed on
	// Friday 3 July in 2026).
	for _, d := range []sla.Date{{Year: 2026, Month: 1, Day: 6}, {Year: 2026, Month: 8, Day: 1}, {Year: 2026, Month: 1, Day: 26}, {Year: 2026, Month: 7, Day: 3}} {
		if !hasHoliday(c, d.Year, d.Month, d.Day) {
			t.Errorf("no holiday on %v", d)
		}
	}
	if hasHoliday(c, 2026, time.March, 3) {
		t.Error("a holiday on 2026-03-03")
	}
	checkExclusions(t, c, []sla.Exclusion{
		{Weekday: time.Tuesday, Range: sla.ClockRange{From: 0, To: 1440}},
		{Weekday: time.Monday, Weeks: []int{5}, Range: sla.ClockRange{From: 0, To: 60}},
	})
	reg := p.Tiers["regional"]
	if fr := reg.Targets[sla.FirstResponse]; fr == nil || *fr != (sla.Goals{}) {
		t.Errorf("first_response {} = %+v, want none for every severity", fr)
	}
	res := reg.Targets[sla.Resolution]
	if g := res[1]; g.Kind != sla.GoalDuration || g.Duration != 36*time.Hour || g.Pausable || g.Calendar != c {
		t.Errorf("resolution 1 = %+v, want 36h in regional, not pausable", g)
	}
	if g := res[4]; g.Kind != sla.GoalBestEffort || !g.Pausable {
		t.Errorf("resolution 4 = %+v, want best effort", g)
	}
	plain := p.Tiers["plain"]
	if !plain.Calendar.IsAlwaysOpen() || plain.Targets[sla.FirstResponse] != nil {
		t.Errorf("tier plain: calendar %s, first_response %v", plain.Calendar.Name, plain.Targets[sla.FirstResponse])
	}
	if g := plain.Targets[sla.Resolution][2]; g.Duration != 90*time.Second || g.Calendar != plain.Calendar {
		t.Errorf("tier plain resolution 2 = %+v", g)
	}
}

// TestDecodeEmpty checks that Decode takes a missing or empty policies
// mapping as no policies.
func TestDecodeEmpty(t *testing.T) {
	var empty yaml.Node
	if err := yaml.Unmarshal([]byte("{}"), &empty); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]*yaml.Node{"nil": nil, "empty": empty.Content[0]} {
		d := &strictyaml.Decoder{File: "cfg.yml"}
		ps := Decode(d, n, "policies")
		if err := d.Err(); err != nil || ps == nil || len(ps) != 0 {
			t.Errorf("%s: Decode = %v, %v; want an empty map", name, ps, err)
		}
	}
	for _, src := range []string{"", "policies:\n", "policies: {}\n"} {
		ps, err := Parse("empty.yml", []byte(src))
		if err != nil || ps == nil || len(ps) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want an empty map", src, ps, err)
		}
	}
}

// TestDecodeInConfig checks the errors of policies decoded inside a larger
// file: under its own key path, with the file's lines, and every policy
// named in the map even when broken.
func TestDecodeInConfig(t *testing.T) {
	src := `sources: []
policies:
  good:
    tiers: {basic: {first_response: {1: 2h}}}
  broken:
    tiers: {basic: {first_response: {5: 2h}}}
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	d := &strictyaml.Decoder{File: "cfg.yml"}
	ps := Decode(d, doc.Content[0].Content[3], "policies")
	want := "cfg.yml:6: policies.broken.tiers.basic.first_response.5: severity must be 1 to 4"
	if err := d.Err(); err == nil || err.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, want)
	}
	if ps["good"] == nil || ps["broken"] == nil {
		t.Errorf("Decode = %v, want both policies", ps)
	}
}

func checkHours(t *testing.T, c *sla.Calendar, want map[time.Weekday][]string) {
	t.Helper()
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		var got []string
		for _, r := range c.Hours[wd] {
			got = append(got, r.String())
		}
		if strings.Join(got, " ") != strings.Join(want[wd], " ") {
			t.Errorf("calendar %s: %s hours %v, want %v", c.Name, wd, got, want[wd])
		}
	}
}

func checkExclusions(t *testing.T, c *sla.Calendar, want []sla.Exclusion) {
	t.Helper()
	if len(c.Exclusions) != len(want) {
		t.Fatalf("calendar %s: exclusions %+v, want %+v", c.Name, c.Exclusions, want)
	}
	for i, x := range c.Exclusions {
		w := want[i]
		if x.Weekday != w.Weekday || x.Range != w.Range || !slices.Equal(x.Weeks, w.Weeks) {
			t.Errorf("calendar %s: exclusion %d = %+v, want %+v", c.Name, i, x, w)
		}
	}
}

// hasHoliday reports whether one of the calendar's holidays is observed on
// that date.
func hasHoliday(c *sla.Calendar, y int, m time.Month, d int) bool {
	for _, h := range c.Holidays {
		if _, obs := h.Calc(y); !obs.IsZero() {
			if oy, om, od := obs.Date(); oy == y && om == m && od == d {
				return true
			}
		}
	}
	return false
}
