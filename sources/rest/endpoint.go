package rest

import (
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// Endpoint is what every API source's configuration says of its server:
// where it is, the client-side request budget and how far back an
// incremental sync looks again (for searches that are eventually
// consistent).
type Endpoint struct {
	URL               string // no trailing slash
	RequestsPerMinute int
	Overlap           time.Duration

	given bool
}

// Fields are the handlers of the keys url, requests_per_minute and overlap,
// for strictyaml's Fields. what names the server in errors ("the
// account's address") and example is an address users recognise. Set
// Overlap to its default before decoding.
func (e *Endpoint) Fields(d *strictyaml.Decoder, what, example string) map[string]func(*yaml.Node, string) {
	return map[string]func(*yaml.Node, string){
		"url": func(v *yaml.Node, p string) {
			e.given = true
			var s string
			if !d.String(v, p, &s) {
				return
			}
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				d.Errorf(v, p, "want %s such as %s", what, example)
				return
			}
			e.URL = strings.TrimRight(s, "/")
		},
		"requests_per_minute": func(v *yaml.Node, p string) {
			if d.Int(v, p, &e.RequestsPerMinute) && e.RequestsPerMinute < 0 {
				d.Errorf(v, p, "must not be negative")
			}
		},
		"overlap": func(v *yaml.Node, p string) {
			if d.Duration(v, p, &e.Overlap) && e.Overlap < 0 {
				d.Errorf(v, p, "must not be negative")
			}
		},
	}
}

// Require reports a missing url, once the source's mapping n at path is
// decoded.
func (e *Endpoint) Require(d *strictyaml.Decoder, n *yaml.Node, path, what, example string) {
	if !e.given {
		d.Errorf(n, strictyaml.Join(path, "url"), "missing: %s such as %s", what, example)
	}
}
