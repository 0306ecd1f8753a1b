package exporter_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/exporter"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/demo"
	"github.com/support-sla/support_sla_exporter/sources/file"
)

// The landing page says what runs: the demo without a configuration file.
func TestLandingPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"no configuration", "", []string{"Running the built-in demo", "--config.file"}},
		{"a configuration file", "testdata/cases.yml", []string{"Running testdata/cases.yml: 1 source(s)."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := exporter.New(exporter.Options{
				ConfigFile: tc.file,
				Registry:   sources.Registry{"demo": demo.New, "file": file.New},
				Now:        func() time.Time { return testAt },
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := serve(t, e)
			code, body, _ := request(t, http.MethodGet, srv.URL+"/")
			if code != http.StatusOK {
				t.Fatalf("GET /: %d\n%s", code, body)
			}
			for _, want := range append(tc.want, "Support SLA Exporter", `href="/metrics"`, `href="/cases"`, "test") {
				if !strings.Contains(body, want) {
					t.Errorf("the landing page does not mention %q:\n%s", want, body)
				}
			}
			if tc.file != "" && strings.Contains(body, "built-in demo") {
				t.Error("the landing page mentions the demo when a configuration file runs")
			}
			if code, body, _ := request(t, http.MethodGet, srv.URL+"/-/healthy"); code != http.StatusOK || !strings.Contains(body, "Healthy") {
				t.Errorf("GET /-/healthy: %d %q", code, body)
			}
			if code, _, _ := request(t, http.MethodGet, srv.URL+"/nope"); code != http.StatusNotFound {
				t.Errorf("GET /nope: %d, want 404 rather than the landing page", code)
			}
			// Every link of the page leads somewhere.
			for _, m := range localLink.FindAllStringSubmatch(body, -1) {
				u, err := url.Parse(html.UnescapeString(m[1]))
				if err != nil {
					t.Fatal(err)
				}
				if u.Path == "/debug/pprof/profile" {
					u.RawQuery = "seconds=1" // not the minute the page asks for
				}
				if code, _, _ := request(t, http.MethodGet, srv.URL+u.String()); code == http.StatusNotFound {
					t.Errorf("the landing page links to %s, which is not found", m[1])
				}
			}
		})
	}
}

// localLink is a link to a page of the exporter.
var localLink = regexp.MustCompile(`href="(/[^"]*)"`)

// One row of /cases: its state, its link if any, its case key.
var caseRow = regexp.MustCompile(`<tr class="([a-z]+)"><td>helpdesk</td><td>(?:<a href="([^"]*)">)?([^<]*)(?:</a>)?</td><td>([^<]*)</td>`)

// /cases lists the breached and warning targets, the least time left
// first, with links to the cases and every value escaped.
func TestCasesPage(t *testing.T) {
	t.Parallel()
	e := start(t, exporter.Options{
		ConfigFile: "testdata/cases.yml",
		Registry:   sources.Registry{"file": file.New},
		Now:        func() time.Time { return testAt },
	})
	waitFor(t, "the first poll", e.Ready)
	code, body, h := request(t, http.MethodGet, serve(t, e).URL+"/cases")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /cases: %d %s\n%s", code, h.Get("Content-Type"), body)
	}
	type row struct{ state, href, key, customer string }
	var got []row
	for _, m := range caseRow.FindAllStringSubmatch(body, -1) {
		got = append(got, row{m[1], m[2], m[3], m[4]})
	}
	want := []row{
		{"breached", "https://helpdesk.example.com/SUP-1", "SUP-1", "acme"}, // 2h late
		{"breached", "", "C-9", "globex"},                                   // 1h late, and the id stands for a missing key
		{"breached", "#ZgotmplZ", "SUP-8", "globex"},                        // 1h late too: by key; a javascript: URL is neutralised
		{"breached", "", "SUP-2", `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`},
		{"warning", "", "SUP-4", "acme"}, // 20m left
		{"warning", "", "SUP-3", "acme"}, // 50m left
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows of /cases:\n got %q\nwant %q\n%s", got, want, body)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "javascript:") {
		t.Errorf("/cases lets markup or a script URL through:\n%s", body)
	}
	if !strings.Contains(body, "2026-03-03T14:00:00Z") {
		t.Errorf("/cases does not say the instant it is of:\n%s", body)
	}
}
