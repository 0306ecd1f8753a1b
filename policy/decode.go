package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// maxGoal bounds goals: a longer one is surely a typo, and the engine would
// walk a sparse calendar for centuries to find its due.
const maxGoal = 10 * 365 * 24 * time.Hour

// alwaysOpen is the name of the built-in calendar.
const alwaysOpen = "24x7"

// Parse decodes a standalone policy file whose only top-level key is
// policies. The error, if any, is a strictyaml.Errors holding every problem
// in line order; the map is then nil.
func Parse(file string, data []byte) (map[string]*sla.Policy, error) {
	d := &strictyaml.Decoder{File: file}
	var out map[string]*sla.Policy
	if top := d.Parse(data); top != nil {
		d.Fields(top, "", map[string]func(*yaml.Node, string){
			"policies": func(v *yaml.Node, p string) { out = Decode(d, v, p) },
		})
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]*sla.Policy{}
	}
	return out, nil
}

// Decode decodes n, the value of a configuration file's policies mapping
// (nil or empty: none) found at key path path, and reports every problem to
// d. The map has an entry for every policy named, even a broken one, so that
// references to it add no errors of their own; use the policies only when d
// has no errors, and then each has passed Policy.Validate.
func Decode(d *strictyaml.Decoder, n *yaml.Node, path string) map[string]*sla.Policy {
	out := make(map[string]*sla.Policy)
	d.Map(n, path, func(name string, k, v *yaml.Node) {
		sub(d, func(d *strictyaml.Decoder) {
			s := decodePolicy(d, name, k, v, strictyaml.Join(path, name))
			if s.preset.set() {
				if base := presetSpec(d, s.preset); base != nil {
					s = merge(base, s)
				} else {
					s.tiersOK = false // its tiers are unknown: checks on them would only add noise
				}
			}
			out[name] = compile(d, s)
		})
	})
	return out
}

// sub runs fn with a decoder of its own, passes its problems on to d, and
// reports whether there were none. Checks that would only repeat a problem
// run when a part has none; counting d's problems for that would sort them
// all each time, and aliases can repeat a part many times over.
func sub(d *strictyaml.Decoder, fn func(*strictyaml.Decoder)) bool {
	own := &strictyaml.Decoder{File: d.File}
	fn(own)
	var es strictyaml.Errors
	errors.As(own.Err(), &es)
	for _, e := range es {
		var at *yaml.Node
		if e.Line > 0 {
			at = &yaml.Node{Line: e.Line}
		}
		d.Errorf(at, e.Path, "%s", e.Msg)
	}
	return len(es) == 0
}

// opt is a setting and where it was written; at is nil when it was not.
type opt[T any] struct {
	v    T
	at   *yaml.Node
	path string
}

func (o opt[T]) set() bool { return o.at != nil }

// policySpec is a policy as written: before its preset is applied and its
// calendar names are resolved, so that a preset's tiers pick up a calendar
// that the policy replaces.
type policySpec struct {
	name string
	key  *yaml.Node // where policy-wide problems are reported
	path string

	preset          opt[string]
	defaultTier     opt[string]
	defaultSeverity opt[int]
	warningRatio    opt[float64]
	pauseStatuses   opt[[]sla.Status]
	exclude         opt[[]sla.ExclusionRule]

	calendars map[string]*sla.Calendar // decoded afresh for each policy
	calOrder  []string
	tiers     map[string]*tierSpec
	tierOrder []string
	// tiersOK is false when the tiers could not be read as a whole, so
	// that checks against the set of tiers would only add noise.
	tiersOK bool
}

type tierSpec struct {
	calendar opt[string] // unset: 24x7
	targets  [sla.NumTargets]*[5]goalSpec
}

type goalSpec struct {
	kind     sla.GoalKind
	dur      time.Duration
	calendar opt[string] // unset: the tier's
	pausable opt[bool]   // unset: the target's default
}

func decodePolicy(d *strictyaml.Decoder, name string, k, v *yaml.Node, path string) *policySpec {
	s := &policySpec{
		name:      name,
		key:       k,
		path:      path,
		calendars: map[string]*sla.Calendar{},
		tiers:     map[string]*tierSpec{},
		tiersOK:   true,
	}
	if v.Kind != yaml.MappingNode {
		// A policy written as nothing at all, or as a scalar or list.
		s.tiersOK = false
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			d.Errorf(k, path, "empty policy: give its tiers, or a preset")
			return s
		}
	}
	fields := map[string]func(*yaml.Node, string){
		"preset": func(v *yaml.Node, p string) {
			if d.String(v, p, &s.preset.v) {
				s.preset.at, s.preset.path = v, p
			}
		},
		"default_tier": func(v *yaml.Node, p string) {
			if d.String(v, p, &s.defaultTier.v) {
				s.defaultTier.at, s.defaultTier.path = v, p
			}
		},
		"default_severity": func(v *yaml.Node, p string) {
			if !d.Int(v, p, &s.defaultSeverity.v) {
				return
			}
			if sev := s.defaultSeverity.v; sev < 1 || sev > 4 {
				d.Errorf(v, p, "severity must be 1 to 4, not %d", sev)
				return
			}
			s.defaultSeverity.at, s.defaultSeverity.path = v, p
		},
		"warning_ratio": func(v *yaml.Node, p string) {
			if !d.Float(v, p, &s.warningRatio.v) {
				return
			}
			// Written so that NaN fails too.
			if r := s.warningRatio.v; !(r > 0 && r <= 1) {
				d.Errorf(v, p, "must be more than 0 and at most 1, not %s", v.Value)
				return
			}
			s.warningRatio.at, s.warningRatio.path = v, p
		},
		"pause_statuses": func(v *yaml.Node, p string) {
			st := []sla.Status{}
			d.Seq(v, p, func(_ int, e *yaml.Node, ep string) {
				var name string
				if !d.String(e, ep, &name) {
					return
				}
				x, err := sla.ParseStatus(name)
				if err != nil {
					d.Errorf(e, ep, "%v", err)
					return
				}
				if !slices.Contains(st, x) {
					st = append(st, x)
				}
			})
			s.pauseStatuses = opt[[]sla.Status]{st, v, p}
		},
		"calendars": func(v *yaml.Node, p string) {
			d.Map(v, p, func(name string, k, v *yaml.Node) {
				cp := strictyaml.Join(p, name)
				if name == alwaysOpen {
					d.Errorf(k, cp, "24x7 is built in and cannot be redefined")
					return
				}
				s.calendars[name] = decodeCalendar(d, name, k, v, cp)
				s.calOrder = append(s.calOrder, name)
			})
		},
		"tiers": func(v *yaml.Node, p string) {
			s.tiersOK = d.Map(v, p, func(name string, k, v *yaml.Node) {
				s.tiers[name] = decodeTier(d, k, v, strictyaml.Join(p, name))
				s.tierOrder = append(s.tierOrder, name)
			})
		},
		"exclude": func(v *yaml.Node, p string) {
			rules := []sla.ExclusionRule{}
			d.Seq(v, p, func(_ int, e *yaml.Node, ep string) {
				var r sla.ExclusionRule
				ok := e.Kind == yaml.MappingNode
				str := func(dst *string) func(*yaml.Node, string) {
					return func(v *yaml.Node, p string) { ok = d.String(v, p, dst) && ok }
				}
				fields := map[string]func(*yaml.Node, string){"label": str(&r.Label), "type": str(&r.Type), "customer": str(&r.Customer)}
				d.Fields(e, ep, fields)
				if !ok || unknownKey(e, fields) {
					return // reported already
				}
				if r == (sla.ExclusionRule{}) {
					d.Errorf(e, ep, "an exclusion rule needs label, type or customer")
					return
				}
				rules = append(rules, r)
			})
			s.exclude = opt[[]sla.ExclusionRule]{rules, v, p}
		},
	}
	d.Fields(v, path, fields)
	if unknownKey(v, fields) {
		s.tiersOK = false // the unknown key may be a misspelt tiers
	}
	return s
}

// unknownKey reports whether mapping n has a key that fields does not
// know. strictyaml reports it; a check for a missing key would only repeat
// it, as the unknown key is often the missing one misspelt.
func unknownKey(n *yaml.Node, fields map[string]func(*yaml.Node, string)) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i < len(n.Content); i += 2 {
		if _, ok := fields[n.Content[i].Value]; !ok {
			return true
		}
	}
	return false
}

func decodeTier(d *strictyaml.Decoder, k, v *yaml.Node, path string) *tierSpec {
	t := &tierSpec{}
	given := false
	fields := map[string]func(*yaml.Node, string){
		"calendar": func(v *yaml.Node, p string) {
			if d.String(v, p, &t.calendar.v) {
				t.calendar.at, t.calendar.path = v, p
			}
		},
		"first_response": func(v *yaml.Node, p string) {
			given = true
			t.targets[sla.FirstResponse] = decodeGoals(d, v, p)
		},
		"resolution": func(v *yaml.Node, p string) {
			given = true
			t.targets[sla.Resolution] = decodeGoals(d, v, p)
		},
	}
	d.Fields(v, path, fields)
	if (v.Kind == yaml.MappingNode && !given && !unknownKey(v, fields)) || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		d.Errorf(k, path, "a tier needs goals: first_response, resolution or both")
	}
	return t
}

func decodeGoals(d *strictyaml.Decoder, n *yaml.Node, path string) *[5]goalSpec {
	gs := new([5]goalSpec)
	d.Map(n, path, func(key string, k, v *yaml.Node) {
		p := strictyaml.Join(path, key)
		sev := 0
		switch key {
		case "1", "2", "3", "4":
			sev = int(key[0] - '0')
		default:
			d.Errorf(k, p, "severity must be 1 to 4")
			return
		}
		decodeGoal(d, v, p, &gs[sev])
	})
	return gs
}

func decodeGoal(d *strictyaml.Decoder, n *yaml.Node, path string, g *goalSpec) {
	if n.Kind != yaml.MappingNode {
		parseGoal(d, n, path, g)
		return
	}
	given := false
	fields := map[string]func(*yaml.Node, string){
		"goal": func(v *yaml.Node, p string) {
			given = true
			parseGoal(d, v, p, g)
		},
		"calendar": func(v *yaml.Node, p string) {
			if d.String(v, p, &g.calendar.v) {
				g.calendar.at, g.calendar.path = v, p
			}
		},
		"pausable": func(v *yaml.Node, p string) {
			if d.Bool(v, p, &g.pausable.v) {
				g.pausable.at, g.pausable.path = v, p
			}
		},
	}
	d.Fields(n, path, fields)
	if !given && !unknownKey(n, fields) {
		d.Errorf(n, path, "missing goal: a duration, none or best_effort")
	}
}

func parseGoal(d *strictyaml.Decoder, n *yaml.Node, path string, g *goalSpec) {
	var s string
	if !d.String(n, path, &s) {
		return
	}
	switch s {
	case "none":
		g.kind = sla.GoalNone
	case "best_effort":
		g.kind = sla.GoalBestEffort
	default:
		// Checked first: strictyaml.ParseDuration lets a huge day count
		// overflow, into an error that misleads or a short goal.
		if days, _, ok := strings.Cut(s, "d"); ok {
			if k, err := strconv.Atoi(days); err == nil && k > int(maxGoal/(24*time.Hour)) {
				d.Errorf(n, path, "bad goal %q: longer than 10 years", s)
				return
			}
		}
		v, err := strictyaml.ParseDuration(s)
		if err != nil {
			d.Errorf(n, path, "bad goal %q: want a duration such as 30m, 8h or 1d (whole seconds, more than 0), none or best_effort", s)
			return
		}
		if v > maxGoal {
			d.Errorf(n, path, "bad goal %q: longer than 10 years", s)
			return
		}
		g.kind, g.dur = sla.GoalDuration, v
	}
}

// merge applies a policy's own keys over its preset's, as the package
// comment says.
func merge(base, over *policySpec) *policySpec {
	m := *base
	m.name, m.key, m.path, m.preset = over.name, over.key, over.path, over.preset
	m.tiersOK = over.tiersOK
	if over.defaultTier.set() {
		m.defaultTier = over.defaultTier
	}
	if over.defaultSeverity.set() {
		m.defaultSeverity = over.defaultSeverity
	}
	if over.warningRatio.set() {
		m.warningRatio = over.warningRatio
	}
	if over.pauseStatuses.set() {
		m.pauseStatuses = over.pauseStatuses
	}
	if over.exclude.set() {
		m.exclude = over.exclude
	}
	m.calendars, m.calOrder = overlay(base.calendars, base.calOrder, over.calendars, over.calOrder)
	m.tiers, m.tierOrder = overlay(base.tiers, base.tierOrder, over.tiers, over.tierOrder)
	return &m
}

// compile resolves calendar names and builds the policy; d holds the
// policy's problems only.
func compile(d *strictyaml.Decoder, s *policySpec) *sla.Policy {
	p := &sla.Policy{
		Name:            s.name,
		DefaultTier:     s.defaultTier.v,
		DefaultSeverity: sla.DefaultSeverity,
		WarningRatio:    sla.DefaultWarningRatio,
		PauseStatuses:   []sla.Status{sla.StatusPendingCustomer},
		Calendars:       map[string]*sla.Calendar{alwaysOpen: sla.AlwaysOpen()},
		Tiers:           make(map[string]*sla.Tier, len(s.tiers)),
	}
	if s.defaultSeverity.set() {
		p.DefaultSeverity = s.defaultSeverity.v
	}
	if s.warningRatio.set() {
		p.WarningRatio = s.warningRatio.v
	}
	if s.pauseStatuses.set() {
		p.PauseStatuses = slices.Clone(s.pauseStatuses.v)
	}
	if s.exclude.set() {
		p.Exclude = slices.Clone(s.exclude.v)
	}
	for _, name := range s.calOrder {
		p.Calendars[name] = s.calendars[name]
	}
	known := slices.Sorted(maps.Keys(p.Calendars))
	calendar := func(o opt[string], dflt *sla.Calendar) *sla.Calendar {
		if !o.set() {
			return dflt
		}
		c, ok := p.Calendars[o.v]
		if !ok {
			d.Errorf(o.at, o.path, "unknown calendar %q (known: %s)", o.v, strings.Join(known, ", "))
		}
		return c
	}
	for _, name := range s.tierOrder {
		ts := s.tiers[name]
		t := &sla.Tier{Name: name, Calendar: calendar(ts.calendar, p.Calendars[alwaysOpen])}
		for k, gs := range ts.targets {
			if gs == nil {
				continue
			}
			goals := new(sla.Goals)
			for sev := 1; sev <= 4; sev++ {
				g := gs[sev]
				cal := calendar(g.calendar, t.Calendar)
				pausable := sla.Target(k).PausableByDefault()
				if g.pausable.set() {
					pausable = g.pausable.v
				}
				goals[sev] = sla.Goal{Kind: g.kind, Pausable: pausable}
				if g.kind == sla.GoalDuration {
					goals[sev].Duration, goals[sev].Calendar = g.dur, cal
				}
			}
			t.Targets[k] = goals
		}
		p.Tiers[name] = t
	}
	if s.tiersOK {
		if len(s.tiers) == 0 {
			d.Errorf(s.key, s.path, "no tiers: a policy needs at least one")
		}
		if o := s.defaultTier; o.set() && s.tiers[o.v] == nil && len(s.tiers) > 0 {
			d.Errorf(o.at, o.path, "unknown tier %q (known: %s)", o.v, strings.Join(slices.Sorted(maps.Keys(s.tiers)), ", "))
		}
	}
	if d.Err() == nil {
		// The engine's own checks, as a backstop: the ones above say where.
		if err := p.Validate(); err != nil {
			d.Errorf(s.key, s.path, "%v", err)
		}
	}
	return p
}

// presetSpec decodes the preset that o names, as written, or reports why it
// cannot.
func presetSpec(d *strictyaml.Decoder, o opt[string]) *policySpec {
	names := PresetNames()
	if !slices.Contains(names, o.v) {
		d.Errorf(o.at, o.path, "unknown preset %q (known: %s)", o.v, strings.Join(names, ", "))
		return nil
	}
	file := presetFile(o.v)
	data, err := presetFS.ReadFile(file)
	if err != nil {
		d.Errorf(o.at, o.path, "built-in preset %s: %v", o.v, err)
		return nil
	}
	pd := &strictyaml.Decoder{File: file}
	var s *policySpec
	if top := pd.Parse(data); top != nil {
		pd.Fields(top, "", map[string]func(*yaml.Node, string){
			"policies": func(v *yaml.Node, p string) {
				pd.Map(v, p, func(name string, k, v *yaml.Node) {
					if name == o.v {
						s = decodePolicy(pd, name, k, v, strictyaml.Join(p, name))
					}
				})
			},
		})
	}
	switch {
	case pd.Err() != nil:
		err = pd.Err()
	case s == nil:
		err = fmt.Errorf("%s does not define policy %s", file, o.v)
	case s.preset.set():
		err = fmt.Errorf("%s: a preset cannot start from another", file)
	}
	if err != nil {
		d.Errorf(o.at, o.path, "built-in preset %s is broken: %v", o.v, err)
		return nil
	}
	return s
}

// overlay lays the entries of over on those of base: an entry of over
// replaces base's of the same name, a new one is added after base's. Each
// map comes with its names in file order.
func overlay[T any](base map[string]T, baseOrder []string, over map[string]T, overOrder []string) (map[string]T, []string) {
	m := make(map[string]T, len(base)+len(over))
	order := slices.Clone(baseOrder)
	for name, v := range base {
		m[name] = v
	}
	for _, name := range overOrder {
		if _, ok := m[name]; !ok {
			order = append(order, name)
		}
		m[name] = over[name]
	}
	return m, order
}
