// Package sources defines what every ticket-system source implements, and
// the registry that maps a configuration's `type:` to a constructor. Each
// system lives in its own sub-package with the same shape.
package sources

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// Source reads cases from one ticket system.
type Source interface {
	// Sync brings the caller's view of the source up to date. With an
	// empty cursor it returns every case the SLA needs (all open cases and
	// those resolved since the start of the previous month) with Full set;
	// with the cursor of the last batch it may return only what changed
	// since. A returned error means the poll failed and the caller keeps
	// its last good cases.
	Sync(ctx context.Context, cursor string) (Batch, error)
	// Window returns every case that was open at any time in [from, to):
	// created before to and not resolved before from. The monthly report
	// uses it for past months.
	Window(ctx context.Context, from, to time.Time) ([]sla.Case, error)
}

// Noter is a source that can write an internal note on a case: the
// alerting bridge's write-back (POST /alertmanager/webhook). The note is
// never shown to the customer where the ticket system can keep it from
// them (an internal comment, a private note, a work note).
type Noter interface {
	// Note adds text to the case of id (sla.Case.ID as the source gives
	// it). An error names the case, never a credential.
	Note(ctx context.Context, id, text string) error
}

// Batch is the outcome of one Sync.
type Batch struct {
	// Cases are new or changed cases; when Full, every case.
	Cases []sla.Case
	// Full says Cases replace everything known of the source.
	Full bool
	// Deleted are the ids of cases removed (or merged) since the cursor.
	Deleted []string
	// Cursor is where the next Sync starts.
	Cursor string
	// Problems are records that were skipped, each naming where it is;
	// the batch holds every other record. A batch that is not Full
	// repeats none: earlier ones still stand.
	Problems []error
}

// Problem is an error about one record: the source skips that record and
// reports the error in Batch.Problems, keeping every other record.
type Problem struct{ Err error }

func (p Problem) Error() string { return p.Err.Error() }
func (p Problem) Unwrap() error { return p.Err }

// Env is what a source may use besides its own configuration.
type Env struct {
	// Name is the source's name (its `source` label).
	Name string
	// Dir is the configuration file's folder: relative paths start there.
	Dir string
	// Policy is the policy the source's cases are evaluated with.
	Policy *sla.Policy
	// Now is the clock; tests set it.
	Now func() time.Time
	// Clock paces the source's requests (waits for a rate limit or a
	// retry); the real clock when nil. Tests set a fake one to check a
	// wait without waiting.
	Clock  Clock
	Logger *slog.Logger
	// Requests counts the source's HTTP requests by status code ("429",
	// "error" for a transport failure): support_sla_source_requests_total
	// with the source label set. Nil when nobody counts.
	Requests *prometheus.CounterVec
}

// Clock is what a source waits on.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Factory decodes a source's type-specific keys from its configuration
// mapping n and builds the source. It decodes n with Fields, which takes
// care of the keys every source has. Problems go to d; the returned source
// is used only when d has none.
type Factory func(d *strictyaml.Decoder, n *yaml.Node, path string, env Env) Source

// CommonKeys are the keys of every source's mapping, decoded by the
// configuration loader.
var CommonKeys = []string{"name", "type", "policy", "interval"}

// Fields decodes a source mapping with the handlers of its own keys; the
// common keys are accepted and left to the configuration loader.
func Fields(d *strictyaml.Decoder, n *yaml.Node, path string, own map[string]func(v *yaml.Node, path string)) {
	all := make(map[string]func(*yaml.Node, string), len(own)+len(CommonKeys))
	for _, k := range CommonKeys {
		all[k] = func(*yaml.Node, string) {}
	}
	for k, h := range own {
		all[k] = h
	}
	d.Fields(n, path, all)
}

// Registry maps a source `type:` to its factory.
type Registry map[string]Factory
