package exporter

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/support-sla/support_sla_exporter/sla"
)

// Handler serves /metrics, the landing page, /cases, /-/healthy, /-/ready,
// POST /-/reload and POST /alertmanager/webhook.
func (e *Exporter) Handler(version string) (http.Handler, error) {
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "Support SLA Exporter",
		Description: "SLA signals from support-desk tickets. " + e.Describe() + " Cases are polled in the background every source interval; SLA states are computed at each scrape.",
		Version:     version,
		// The mux serves no /debug/pprof: no links to it.
		Profiling: "false",
		Links: []web.LandingLinks{
			{Address: "metrics", Text: "Metrics"},
			{Address: "cases", Text: "Cases at risk", Description: "breached and warning targets of open cases, worst first"},
			{Address: "-/ready", Text: "Readiness", Description: "ready once every source has been polled once"},
		},
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{
		ErrorLog:          slogAdapter{e},
		EnableOpenMetrics: true,
	}))
	mux.Handle("/", landing)
	mux.HandleFunc("/cases", e.serveCases)
	// Answers 404 while alerting.write_back is off (a reload may turn it on).
	mux.Handle(WebhookPath, e.writeBack)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy.")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !e.Ready() {
			http.Error(w, "Not ready: not every source has been polled yet.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready.")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "Reload with POST.", http.StatusMethodNotAllowed)
			return
		}
		if err := e.Reload(); err != nil {
			http.Error(w, "Reload failed, the previous configuration keeps running:\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded.")
	})
	return mux, nil
}

type slogAdapter struct{ e *Exporter }

func (s slogAdapter) Println(v ...any) { s.e.opts.Logger.Error(fmt.Sprint(v...)) }

// atRisk is one row of /cases.
type atRisk struct {
	Source, Case, URL, Customer, Tier, Target, State string
	Severity                                         int
	Elapsed, Goal, Remaining                         string
	Due                                              string
	remaining                                        int64
}

//go:embed cases.html
var casesHTML string

var casesPage = template.Must(template.New("cases").Parse(casesHTML))

// serveCases lists the breached and warning targets of open cases, worst
// (least time left) first.
func (e *Exporter) serveCases(w http.ResponseWriter, _ *http.Request) {
	now := e.opts.Now().Truncate(time.Second)
	var rows []atRisk
	var res []sla.Result
	var err error
	for _, p := range e.Pollers() {
		for _, c := range p.Snapshot().Cases {
			if res, err = p.Evaluator().Evaluate(&c, now, res[:0]); err != nil {
				continue
			}
			for _, r := range res {
				if r.State != sla.StateBreached && r.State != sla.StateWarning {
					continue
				}
				key := c.Key
				if key == "" {
					key = c.ID
				}
				rows = append(rows, atRisk{
					Source: p.Name(), Case: key, URL: c.URL, Customer: c.Customer, Tier: r.Tier,
					Target: strings.ReplaceAll(r.Target.String(), "_", " "), State: r.State.String(), Severity: r.Severity,
					Elapsed: human(r.Elapsed), Goal: human(r.Goal), Remaining: human(r.Remaining()),
					Due: r.DueTime().Format("2006-01-02 15:04 MST"), remaining: r.Remaining(),
				})
			}
		}
	}
	slices.SortFunc(rows, func(a, b atRisk) int {
		return cmp.Or(cmp.Compare(a.remaining, b.remaining), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Case, b.Case))
	})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := casesPage.Execute(w, map[string]any{"Rows": rows, "Now": now.UTC().Format(time.RFC3339), "About": e.Describe()}); err != nil {
		e.opts.Logger.Error("Rendering /cases", "err", err)
	}
}

// human writes seconds as people read them: 2d4h, 6h08m, 45m, 30s.
func human(s int64) string {
	sign := ""
	if s < 0 {
		sign, s = "-", -s
	}
	d, h, m := s/86400, s/3600%24, s/60%60
	switch {
	case d > 0:
		return fmt.Sprintf("%s%dd%dh", sign, d, h)
	case h > 0:
		return fmt.Sprintf("%s%dh%02dm", sign, h, m)
	case m > 0:
		return fmt.Sprintf("%s%dm", sign, m)
	}
	return sign + strconv.FormatInt(s, 10) + "s"
}
