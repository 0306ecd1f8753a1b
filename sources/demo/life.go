package demo

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
)

// A case's life is drawn once, whole, from a PRNG seeded by the seed and
// the case number; what a ticket system shows at an instant is that life
// cut at the instant (view). Every draw is an integer so that the stream is
// the same on every platform: no float rounding, no fused multiply-add.

// maxLife bounds a case's life from creation to resolution, so that the
// cases open at an instant are among those created in the maxLife before.
const (
	maxLife        = 40 * 24 * time.Hour
	maxLifeSeconds = int64(maxLife / time.Second)
)

// life is everything that ever happens to one case; instants are unix
// seconds. It is immutable once drawn.
type life struct {
	n             int64
	customer      int
	created       int64
	severity      int   // at creation; 0: none given (e-mail), the default applies
	sevChange     int64 // when the severity changed, 0: never
	newSeverity   int
	firstResponse int64 // 0: none before the resolution
	resolved      int64
	status        []sla.StatusChange
	typ           string
	experimental  bool
}

// doneBy reports whether the case was resolved at or before t.
func (l *life) doneBy(t int64) bool { return l.resolved <= t }

// arrivalPermille is the chance, per mille, that a slot holds a case, by
// the customer's local weekday and hour: people open cases in their working
// hours, a few at night, fewer on weekends.
var arrivalPermille = func() (w [7][24]int) {
	for d := range 7 {
		for h := range 24 {
			var p int
			switch weekend := d == int(time.Saturday) || d == int(time.Sunday); {
			case weekend && h >= 8 && h < 20:
				p = 180
			case weekend && h >= 20:
				p = 80
			case weekend:
				p = 40
			case h < 6:
				p = 60
			case h < 8:
				p = 300
			case h >= 12 && h < 14:
				p = 800
			case h < 18:
				p = 1000
			case h < 20:
				p = 500
			default:
				p = 150
			}
			w[d][h] = p
		}
	}
	return w
}()

// meanArrivalPermille is the mean of arrivalPermille over a week: the share
// of slots that hold a case.
func meanArrivalPermille() int {
	sum := 0
	for d := range arrivalPermille {
		for _, p := range arrivalPermille[d] {
			sum += p
		}
	}
	return sum / (7 * 24)
}

// span is a range of durations in seconds, [lo, hi], drawn uniformly; a
// table of weighted spans stands in for a skewed (log-normal like)
// distribution.
type span struct {
	weight int
	lo, hi int64
}

func drawSpan(r *rand.Rand, spans []span) int64 {
	total := 0
	for _, s := range spans {
		total += s.weight
	}
	x := r.IntN(total)
	for _, s := range spans {
		if x < s.weight {
			return s.lo + r.Int64N(s.hi-s.lo+1)
		}
		x -= s.weight
	}
	panic("unreachable")
}

const (
	minute = int64(60)
	hour   = 60 * minute
	day    = 24 * hour
)

var (
	// pendingLength is how long a customer takes to answer a question.
	pendingLength = []span{{50, 1 * hour, 8 * hour}, {35, 8 * hour, 3 * day}, {15, 3 * day, 10 * day}}
	// onHoldLength is a wait for a fix, a vendor or a maintenance window.
	onHoldLength = []span{{60, 4 * hour, 1 * day}, {40, 1 * day, 5 * day}}
	// workLength is the support's working time to a resolution, counted in
	// its calendar, by severity: the worse, the faster.
	workLength = [5][]span{
		1: {{60, 1 * hour, 6 * hour}, {30, 6 * hour, 1 * day}, {10, 1 * day, 4 * day}},
		2: {{50, 2 * hour, 12 * hour}, {35, 12 * hour, 3 * day}, {15, 3 * day, 8 * day}},
		3: {{40, 4 * hour, 1 * day}, {40, 1 * day, 4 * day}, {20, 4 * day, 10 * day}},
		4: {{40, 4 * hour, 1 * day}, {40, 1 * day, 4 * day}, {20, 4 * day, 10 * day}},
	}
)

// severityPermille weighs severities 1 to 4: most cases are 3s and 4s.
var severityPermille = [5]int{0, 60, 190, 420, 330}

// The first response, as a fraction (per mille) of its goal in counted
// time: most well in time, some close to it, some late, a few never before
// the resolution.
var firstResponseShare = []struct {
	percent int
	lo, hi  int64 // per mille of the goal; lo < 0: no response
}{
	{65, 100, 700},
	{15, 750, 1000},
	{15, 1050, 2500},
	{5, -1, -1},
}

// draw draws the life of case number n, or nil when its slot holds none.
func (s *Simulator) draw(n int64) *life {
	r := rand.New(rand.NewPCG(s.key, mix(uint64(n))))
	createdMs := n*s.slotMs + r.Int64N(s.slotMs)
	ci := s.pickCustomer(r)
	cu := &s.customers[ci]
	local := time.UnixMilli(createdMs).In(cu.loc)
	if r.IntN(1000) >= arrivalPermille[local.Weekday()][local.Hour()] {
		return nil
	}
	l := &life{n: n, customer: ci, created: floorDiv(createdMs, 1000), typ: "incident"}

	switch x := r.IntN(1000); {
	case x < 20:
		l.typ = "feedback"
	case x < 40:
		l.typ = "enquiry"
	}
	l.experimental = r.IntN(1000) < 30

	// A case sent by e-mail has no severity: the policy's default applies.
	sev := 0
	if r.IntN(100) >= 3 {
		x := r.IntN(1000)
		for sev = 1; sev < 4 && x >= severityPermille[sev]; sev++ {
			x -= severityPermille[sev]
		}
	}
	l.severity = sev
	if sev == 0 && s.policy != nil {
		sev = s.policy.DefaultSeverity
	}
	if sev < 1 || sev > 4 {
		sev = sla.DefaultSeverity
	}

	goal, goalCal := s.firstResponseGoal(cu.Tier, sev)
	work := s.workCalendar(cu.Tier, goalCal)
	tz := cu.Timezone
	after := func(cal *sla.Calendar, from, d int64) int64 {
		if t := cal.Deadline(tz, time.Unix(from, 0), time.Duration(d)*time.Second); !t.IsZero() {
			return t.Unix()
		}
		return from + d
	}

	// The severity changes when the business impact does: more often up.
	changeAt := l.created + 20*minute + r.Int64N(36*hour)
	if l.severity != 0 && r.IntN(100) < 12 {
		up := r.IntN(100) < 60
		switch {
		case up && l.severity > 1, l.severity == 4:
			l.newSeverity = l.severity - 1
		default:
			l.newSeverity = l.severity + 1
		}
		l.sevChange = changeAt
	}

	x := r.IntN(100)
	share := firstResponseShare[len(firstResponseShare)-1]
	for _, sh := range firstResponseShare {
		if x < sh.percent {
			share = sh
			break
		}
		x -= sh.percent
	}
	frac := share.lo + r.Int64N(share.hi-share.lo+1)
	var status []sla.StatusChange
	add := func(at int64, st sla.Status) {
		status = append(status, sla.StatusChange{At: time.Unix(at, 0).UTC(), Status: st})
	}
	if share.lo < 0 {
		// Closed without a reply (a duplicate, solved by the customer):
		// the resolution is the response, in time or not.
		l.resolved = after(goalCal, l.created, max(goal*(200+r.Int64N(2801))/1000, 1))
	} else {
		l.firstResponse = after(goalCal, l.created, max(goal*frac/1000, 1))
		cur := l.firstResponse
		// Support asks the customer for logs or a test; the customer
		// answers in their own working hours.
		if r.IntN(100) < 35 {
			times := 1
			if r.IntN(4) == 0 {
				times = 2
			}
			for range times {
				start := after(work, cur, 5*minute+r.Int64N(4*hour))
				end := localWorkingTime(start+drawSpan(r, pendingLength), cu.loc, r)
				add(start, sla.StatusPendingCustomer)
				add(end, sla.StatusOpen)
				cur = end
			}
		}
		if r.IntN(100) < 8 {
			start := after(work, cur, 10*minute+r.Int64N(8*hour))
			end := start + drawSpan(r, onHoldLength)
			add(start, sla.StatusOnHold)
			add(end, sla.StatusOpen)
			cur = end
		}
		l.resolved = after(work, cur, drawSpan(r, workLength[sev]))
		if r.IntN(100) < 4 {
			// A long-running case: a bug waiting for a release.
			l.resolved = max(l.resolved, l.created+12*day+r.Int64N(26*day))
		}
	}
	if limit := l.created + maxLifeSeconds - hour; l.resolved > limit {
		l.resolved = limit
		// Drop what would come later, and a pause that would not end.
		for n := len(status); n > 0 && (status[n-1].At.Unix() >= limit || status[n-1].Status != sla.StatusOpen); n-- {
			status = status[:n-1]
		}
	}
	add(l.resolved, sla.StatusResolved)
	if r.IntN(100) < 75 {
		// Closed once the customer confirms, or automatically.
		add(l.resolved+day+r.Int64N(4*day), sla.StatusClosed)
	}
	if l.sevChange >= l.resolved {
		l.sevChange, l.newSeverity = 0, 0
	}
	l.status = status
	return l
}

// firstResponseGoal is the goal in seconds and the calendar the first
// response is drawn against. A tier without a duration goal (none, best
// effort) still answers, within about a day of its calendar.
func (s *Simulator) firstResponseGoal(tier string, sev int) (int64, *sla.Calendar) {
	if s.policy != nil {
		if t := s.policy.Tiers[tier]; t != nil {
			if g := t.Targets[sla.FirstResponse]; g != nil && g[sev].Kind == sla.GoalDuration && g[sev].Calendar != nil {
				return int64(g[sev].Duration / time.Second), g[sev].Calendar
			}
		}
	}
	return day, s.workCalendar(tier, nil)
}

// workCalendar is when support works on a tier's cases: the tier's
// calendar, else that of its first-response goal, else always.
func (s *Simulator) workCalendar(tier string, goalCal *sla.Calendar) *sla.Calendar {
	if s.policy != nil {
		if t := s.policy.Tiers[tier]; t != nil && t.Calendar != nil {
			return t.Calendar
		}
	}
	if goalCal != nil {
		return goalCal
	}
	return s.always
}

// localWorkingTime moves t to the customer's next working hours (Monday to
// Friday, 08:00 to 19:00 local) when it falls outside them, at a drawn
// minute of the first two hours.
func localWorkingTime(t int64, loc *time.Location, r *rand.Rand) int64 {
	lt := time.Unix(t, 0).In(loc)
	jitter := r.Int64N(2 * hour)
	wd, h := lt.Weekday(), lt.Hour()
	if wd != time.Saturday && wd != time.Sunday && h >= 8 && h < 19 {
		return t
	}
	y, m, d := lt.Date()
	if h >= 8 {
		d++
	}
	next := time.Date(y, m, d, 8, 0, 0, 0, loc)
	for next.Weekday() == time.Saturday || next.Weekday() == time.Sunday {
		next = next.AddDate(0, 0, 1)
	}
	return next.Unix() + jitter
}

// view is the case as the ticket system showed it at instant at (unix
// seconds, at >= l.created): later events have not happened yet.
func (s *Simulator) view(l *life, at int64) sla.Case {
	cu := &s.customers[l.customer]
	key := "DEMO-" + strconv.FormatInt(l.n, 10)
	c := sla.Case{
		Source:   s.cfg.Name,
		ID:       key,
		Key:      key,
		URL:      "https://support.example.com/cases/" + key,
		Customer: cu.Name,
		Tier:     cu.Tier,
		Severity: l.severity,
		Created:  time.Unix(l.created, 0).UTC(),
		Timezone: cu.Timezone,
		Type:     l.typ,
	}
	if l.experimental {
		c.Labels = []string{"experimental"}
	}
	if l.firstResponse != 0 && l.firstResponse <= at {
		c.FirstResponse = time.Unix(l.firstResponse, 0).UTC()
	}
	if l.resolved <= at {
		c.Resolved = time.Unix(l.resolved, 0).UTC()
	}
	k := 0
	for k < len(l.status) && l.status[k].At.Unix() <= at {
		k++
	}
	if k > 0 {
		// A copy: callers may change what they get.
		c.StatusHistory = append([]sla.StatusChange(nil), l.status[:k]...)
	}
	if n := len(c.StatusHistory); n > 0 {
		c.Status = c.StatusHistory[n-1].Status
	}
	if l.sevChange != 0 && l.sevChange <= at {
		c.SeverityHistory = []sla.SeverityChange{
			{At: c.Created, Severity: l.severity},
			{At: time.Unix(l.sevChange, 0).UTC(), Severity: l.newSeverity},
		}
		c.Severity = l.newSeverity
	}
	return c
}
