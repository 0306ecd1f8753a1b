package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rickar/cal/v2"
	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// decodeCalendar decodes a calendar; it is only meant to be used when d
// got no problems from it.
func decodeCalendar(d *strictyaml.Decoder, name string, k, v *yaml.Node, path string) *sla.Calendar {
	c := &sla.Calendar{Name: name}
	zoneGiven := false
	ok := sub(d, func(d *strictyaml.Decoder) {
		d.Fields(v, path, map[string]func(*yaml.Node, string){
			"timezone": func(v *yaml.Node, p string) {
				zoneGiven = true
				var tz string
				if !d.String(v, p, &tz) {
					return
				}
				loc, err := loadLocation(tz)
				if err != nil {
					d.Errorf(v, p, "%v", err)
					return
				}
				c.Location = loc
			},
			"customer_timezone": func(v *yaml.Node, p string) { d.Bool(v, p, &c.CustomerTimezone) },
			"hours":             func(v *yaml.Node, p string) { decodeHours(d, v, p, &c.Hours) },
			"holidays": func(v *yaml.Node, p string) {
				d.Fields(v, p, map[string]func(*yaml.Node, string){
					"dates":   func(v *yaml.Node, p string) { c.HolidayDates = decodeDates(d, v, p) },
					"country": func(v *yaml.Node, p string) { c.Holidays = decodeCountries(d, v, p) },
				})
			},
			"exclusions": func(v *yaml.Node, p string) { c.Exclusions = decodeExclusions(d, v, p) },
		})
	})
	if !ok {
		return c // the checks below would only repeat those problems
	}
	switch {
	case !zoneGiven:
		d.Errorf(k, path, "missing timezone: an IANA zone such as Europe/Paris")
	case !hasHours(c):
		d.Errorf(k, path, "no open hours: give hours for at least one weekday")
	case neverOpen(c):
		d.Errorf(k, path, "never open: its exclusions cover all its hours")
	default:
		// The engine's own checks, as a backstop: the ones above say where.
		if err := c.Validate(); err != nil {
			d.Errorf(k, path, "%v", err)
		}
	}
	return c
}

// loadLocation loads an IANA zone, refusing "" and "Local", which
// time.LoadLocation maps to UTC and to the machine's own zone.
func loadLocation(tz string) (*time.Location, error) {
	if tz != "" && tz != "Local" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc, nil
		}
	}
	return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/Paris or UTC)", tz)
}

// weekdays are the weekday keys, by time.Weekday.
var weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

const weekdayHelp = "want mon, tue, wed, thu, fri, sat or sun"

func parseWeekday(s string) (time.Weekday, bool) {
	i := slices.Index(weekdays[:], s)
	return time.Weekday(i), i >= 0
}

func decodeHours(d *strictyaml.Decoder, n *yaml.Node, path string, dst *[7][]sla.ClockRange) {
	d.Map(n, path, func(key string, k, v *yaml.Node) {
		p := strictyaml.Join(path, key)
		wd, ok := parseWeekday(key)
		if !ok {
			d.Errorf(k, p, "unknown weekday %q (%s)", key, weekdayHelp)
			return
		}
		var rs []sla.ClockRange
		d.Seq(v, p, func(_ int, e *yaml.Node, ep string) {
			var s string
			if !d.String(e, ep, &s) {
				return
			}
			r, msg := parseRange(s)
			if msg != "" {
				d.Errorf(e, ep, "%s", msg)
				return
			}
			if len(rs) > 0 {
				last := rs[len(rs)-1]
				switch {
				case r.From < last.From:
					d.Errorf(e, ep, "%s comes before %s: list a day's hours in order", r, last)
					return
				case r.From < last.To:
					d.Errorf(e, ep, "%s overlaps %s", r, last)
					return
				}
			}
			rs = append(rs, r)
		})
		dst[wd] = rs
	})
}

// parseRange parses "HH:MM-HH:MM", or says what is wrong with it.
func parseRange(s string) (sla.ClockRange, string) {
	bad := fmt.Sprintf("bad hours %q: ", s)
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return sla.ClockRange{}, bad + "want HH:MM-HH:MM such as 08:00-20:00"
	}
	f, okf := parseClock(from)
	t, okt := parseClock(to)
	switch {
	case !okf || !okt:
		return sla.ClockRange{}, bad + "want HH:MM-HH:MM such as 08:00-20:00"
	case f == sla.MinutesPerDay:
		return sla.ClockRange{}, bad + "24:00 can only end a range"
	case f >= t:
		return sla.ClockRange{}, bad + "the end must be after the start (split a range that crosses midnight over two days)"
	}
	return sla.ClockRange{From: f, To: t}, ""
}

// parseClock parses "HH:MM" into minutes since midnight; "24:00" is the
// end of the day.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}

func decodeDates(d *strictyaml.Decoder, n *yaml.Node, path string) []sla.Date {
	var out []sla.Date
	d.Seq(n, path, func(_ int, e *yaml.Node, ep string) {
		var s string
		if !d.String(e, ep, &s) {
			return
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			d.Errorf(e, ep, "bad date %q: want an existing date written YYYY-MM-DD, such as 2026-12-25", s)
			return
		}
		y, m, dd := t.Date()
		out = append(out, sla.Date{Year: y, Month: m, Day: dd})
	})
	return out
}

// decodeCountries decodes a country or subdivision code, or a list of them,
// into their combined holidays.
func decodeCountries(d *strictyaml.Decoder, n *yaml.Node, path string) []*cal.Holiday {
	var out []*cal.Holiday
	add := func(e *yaml.Node, p string) {
		var code string
		if !d.String(e, p, &code) {
			return
		}
		hs, err := lookupCountry(code)
		if err != "" {
			d.Errorf(e, p, "%s", err)
			return
		}
		for _, h := range hs {
			if !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	if n.Kind == yaml.SequenceNode {
		d.Seq(n, path, func(_ int, e *yaml.Node, ep string) { add(e, ep) })
	} else {
		add(n, path)
	}
	return out
}

// lookupCountry returns a fresh copy of a code's holidays, or says why
// there are none.
func lookupCountry(code string) ([]*cal.Holiday, string) {
	up := strings.ToUpper(code)
	if hs, ok := countries[up]; ok {
		return slices.Clone(hs), ""
	}
	country, _, sub := strings.Cut(up, "-")
	var subs, all []string
	for k := range countries {
		c, _, _ := strings.Cut(k, "-")
		if c == country && k != c {
			subs = append(subs, k)
		}
		if k == c {
			all = append(all, k)
		}
	}
	slices.Sort(subs)
	slices.Sort(all)
	switch {
	case len(subs) > 0 && sub:
		return nil, fmt.Sprintf("unknown subdivision %q (known: %s)", code, strings.Join(subs, ", "))
	case len(subs) > 0:
		return nil, fmt.Sprintf("no national holidays for %q: name a subdivision (known: %s)", code, strings.Join(subs, ", "))
	}
	return nil, fmt.Sprintf("unknown country %q (known: %s; and subdivisions of AU, CH and DE such as DE-BY)", code, strings.Join(all, ", "))
}

func decodeExclusions(d *strictyaml.Decoder, n *yaml.Node, path string) []sla.Exclusion {
	var out []sla.Exclusion
	d.Seq(n, path, func(_ int, e *yaml.Node, ep string) {
		x := sla.Exclusion{Range: sla.ClockRange{From: 0, To: sla.MinutesPerDay}}
		weekday := false
		// ok tracks problems here rather than counting d's: an alias can
		// repeat an exclusion many times over.
		ok := e.Kind == yaml.MappingNode
		clock := func(v *yaml.Node, p string, dst *int) {
			var s string
			if !d.String(v, p, &s) {
				ok = false
				return
			}
			m, valid := parseClock(s)
			if !valid {
				d.Errorf(v, p, "bad time %q: want HH:MM such as 06:00", s)
				ok = false
				return
			}
			*dst = m
		}
		fields := map[string]func(*yaml.Node, string){
			"weekday": func(v *yaml.Node, p string) {
				weekday = true
				var s string
				if !d.String(v, p, &s) {
					ok = false
					return
				}
				wd, valid := parseWeekday(s)
				if !valid {
					d.Errorf(v, p, "unknown weekday %q (%s)", s, weekdayHelp)
					ok = false
					return
				}
				x.Weekday = wd
			},
			"weeks": func(v *yaml.Node, p string) {
				ok = d.Seq(v, p, func(_ int, w *yaml.Node, wp string) {
					var n int
					if !d.Int(w, wp, &n) {
						ok = false
						return
					}
					if n == 0 || n < -5 || n > 5 {
						d.Errorf(w, wp, "week %d must be 1 to 5, or -1 to -5 counting from the end of the month", n)
						ok = false
						return
					}
					x.Weeks = append(x.Weeks, n)
				}) && ok
			},
			"from": func(v *yaml.Node, p string) { clock(v, p, &x.Range.From) },
			"to":   func(v *yaml.Node, p string) { clock(v, p, &x.Range.To) },
		}
		d.Fields(e, ep, fields)
		if !ok || unknownKey(e, fields) {
			return // reported already
		}
		switch {
		case !weekday:
			d.Errorf(e, ep, "missing weekday (%s)", weekdayHelp)
		case x.Range.From >= x.Range.To:
			d.Errorf(e, ep, "from %s must be before to %s", clockString(x.Range.From), clockString(x.Range.To))
		default:
			out = append(out, x)
		}
	})
	return out
}

func clockString(m int) string { return sla.ClockRange{From: m}.String()[:5] }

func hasHours(c *sla.Calendar) bool {
	for _, rs := range c.Hours {
		if len(rs) > 0 {
			return true
		}
	}
	return false
}

// neverOpen reports whether the exclusions close all of the calendar's
// hours in every week of every month. A month has 4 or 5 of each weekday,
// and occurrence i of n is both week i and week i-n-1.
func neverOpen(c *sla.Calendar) bool {
	for wd, rs := range c.Hours {
		for n := 4; n <= 5; n++ {
			for i := 1; i <= n; i++ {
				left := rs
				for _, x := range c.Exclusions {
					if int(x.Weekday) == wd && (len(x.Weeks) == 0 || slices.Contains(x.Weeks, i) || slices.Contains(x.Weeks, i-n-1)) {
						left = subtract(left, x.Range)
					}
				}
				if len(left) > 0 {
					return false
				}
			}
		}
	}
	return true
}

// subtract returns the parts of rs outside cut.
func subtract(rs []sla.ClockRange, cut sla.ClockRange) []sla.ClockRange {
	var out []sla.ClockRange
	for _, r := range rs {
		if r.To <= cut.From || r.From >= cut.To {
			out = append(out, r)
			continue
		}
		if r.From < cut.From {
			out = append(out, sla.ClockRange{From: r.From, To: cut.From})
		}
		if r.To > cut.To {
			out = append(out, sla.ClockRange{From: cut.To, To: r.To})
		}
	}
	return out
}
