package sla

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// fuzzZones are the zones FuzzClock picks from; "24x7" is the built-in
// always-open calendar.
var fuzzZones = []string{"24x7", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Santiago", "Australia/Lord_Howe", "UTC"}

// fuzzRange unpacks a ClockRange from a fuzzed word: From in the low 16 bits,
// To in the high ones, each modulo 24:00 + 1.
func fuzzRange(x uint32) ClockRange {
	return ClockRange{int(x&0xffff) % (MinutesPerDay + 1), int(x>>16) % (MinutesPerDay + 1)}
}

func packRange(from, to int) uint32 { return uint32(from) | uint32(to)<<16 }

// fuzzCalendar builds a calendar from fuzzed parameters: up to three hours
// ranges (invalid or overlapping ones dropped) on the weekdays of a bit
// mask, one holiday (a day of 2026, 0 for none), in a zone. It also
// returns the same calendar in the oracle's words.
func fuzzCalendar(t *testing.T, zone, days uint8, holiday uint16, ranges ...uint32) (*Calendar, oCalendar) {
	t.Helper()
	name := fuzzZones[int(zone)%len(fuzzZones)]
	if name == "24x7" {
		return AlwaysOpen(), oCalendar{Name: "24x7", Always: true}
	}
	var rs []ClockRange
	for _, x := range ranges {
		if r := fuzzRange(x); r.From < r.To {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b ClockRange) int { return a.From - b.From })
	kept := rs[:0]
	for _, r := range rs {
		if len(kept) == 0 || r.From >= kept[len(kept)-1].To {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		kept = []ClockRange{{8 * 60, 20 * 60}}
	}
	if days&0x7f == 0 {
		days = 0x7f
	}
	c := &Calendar{Name: "fuzz", Location: mustLoc(t, name)}
	oc := oCalendar{Name: "fuzz", Timezone: name, Hours: map[string][]string{}}
	for wd := range 7 {
		if days&(1<<wd) == 0 {
			continue
		}
		c.Hours[wd] = kept
		for _, r := range kept {
			oc.Hours[weekdayNames[wd]] = append(oc.Hours[weekdayNames[wd]], r.String())
		}
	}
	if holiday != 0 {
		d := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, int(holiday)%365)
		c.HolidayDates = []Date{{d.Year(), d.Month(), d.Day()}}
		oc.Holidays = []string{d.Format(time.DateOnly)}
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("fuzzed calendar: %v", err)
	}
	return c, oc
}

// FuzzClock checks the clock's algebra on fuzzed calendars and instants
// a <= b <= c:
//
//   - counted(a, b) + counted(b, c) == counted(a, c), 0 <= counted(a, b) <= b - a,
//     whatever order the timelines were built in;
//   - the due of a goal d from a (no pauses) has counted(a, due) == d and
//     is the latest such instant: the second after it counts;
//   - a larger goal never has an earlier due;
//   - OpenStretches are sorted, disjoint, inside [a, c) and add up to
//     counted(a, c);
//   - the minute containing a is open iff the oracle's wall-clock reading
//     says so.
func FuzzClock(f *testing.F) {
	paris := time.Date(2026, 3, 27, 19, 0, 0, 0, time.UTC).Unix()
	business := packRange(8*60, 20*60)
	// zone, days, holiday, three ranges, a, b-a, c-b, goal, more
	f.Add(uint8(1), uint8(0x3e), uint16(0), business, uint32(0), uint32(0), paris, uint32(86400), uint32(3*86400), uint32(8*3600), uint32(3600))
	f.Add(uint8(1), uint8(0x7f), uint16(0), packRange(0, 1440), uint32(0), uint32(0), paris, uint32(86400), uint32(86400), uint32(24*3600), uint32(1))
	f.Add(uint8(2), uint8(0x3e), uint16(66), packRange(8*60, 12*60), packRange(13*60, 20*60), uint32(0), time.Date(2026, 3, 6, 23, 0, 0, 0, time.UTC).Unix(), uint32(3600), uint32(7*86400), uint32(8*3600), uint32(60))
	f.Add(uint8(6), uint8(0x01), uint16(0), packRange(90, 150), packRange(0, 60), packRange(1380, 1440), time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC).Unix(), uint32(86400), uint32(86400), uint32(1800), uint32(900))
	f.Add(uint8(5), uint8(0x41), uint16(0), packRange(0, 30), packRange(1410, 1440), uint32(0), time.Date(2026, 4, 4, 0, 0, 0, 0, time.UTC).Unix(), uint32(400*86400), uint32(2*86400), uint32(3600), uint32(0))
	f.Add(uint8(0), uint8(0), uint16(0), uint32(0), uint32(0), uint32(0), int64(-1), uint32(1), uint32(1), uint32(1), uint32(1))
	f.Add(uint8(3), uint8(0x22), uint16(1), packRange(600, 601), uint32(0), uint32(0), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), uint32(3*365*86400), uint32(86400), uint32(30*86400), uint32(86400))
	// Spans of more than a year: the timelines must grow backwards and
	// forwards in the middle of one computation.
	f.Add(uint8(1), uint8(0x3e), uint16(0), business, uint32(0), uint32(0), time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC).Unix(), uint32(300*86400), uint32(300*86400), uint32(3600), uint32(60))
	f.Add(uint8(4), uint8(0x7f), uint16(200), packRange(0, 1440), packRange(0, 0), uint32(0), time.Date(2027, 12, 31, 20, 0, 0, 0, time.UTC).Unix(), uint32(399*86400), uint32(399*86400), uint32(80*86400), uint32(29*86400))

	f.Fuzz(func(t *testing.T, zone, days uint8, holiday uint16, r1, r2, r3 uint32, a int64, ab, bc, goal, more uint32) {
		// Instants from 2020 to 2032, spans up to 400 days, goals up to
		// 90 days, at the second.
		const base, years = 1577836800, 12 * 365 * 86400 // 2020-01-01
		a = base + (a%years+years)%years
		b := a + int64(ab)%(400*86400)
		c := b + int64(bc)%(400*86400)
		extra := int64(more) % (30 * 86400)

		cal, oc := fuzzCalendar(t, zone, days, holiday, r1, r2, r3)
		cal2, _ := fuzzCalendar(t, zone, days, holiday, r1, r2, r3)
		ocal := newOracleCal(t, oc, nil)
		if err := checkClock(cal, cal2, ocal, a, b, c, int64(goal), extra); err != nil {
			t.Fatal(err)
		}
	})
}

// checkClock checks FuzzClock's invariants on instants a <= b <= c, a goal
// drawn from goal and a larger one by extra. cal and cal2 are two fresh
// copies of one calendar, oc the oracle's.
func checkClock(cal, cal2 *Calendar, oc *oracleCal, a, b, c, goal, extra int64) error {
	k := newClock(cal, "")
	ac := k.counted(a, c)
	abn, bcn := k.counted(a, b), k.counted(b, c)
	if abn+bcn != ac {
		return fmt.Errorf("counted(a, b) %d + counted(b, c) %d != counted(a, c) %d", abn, bcn, ac)
	}
	for _, x := range []struct{ n, from, to int64 }{{abn, a, b}, {bcn, b, c}} {
		if x.n < 0 || x.n > x.to-x.from {
			return fmt.Errorf("counted over %d seconds = %d", x.to-x.from, x.n)
		}
	}
	if cal.IsAlwaysOpen() && ac != c-a {
		return fmt.Errorf("24x7 counted %d over %d seconds", ac, c-a)
	}

	// The same on the fresh copy, whose timelines grow in another order:
	// from the latest instant back.
	k2 := newClock(cal2, "")
	if got := k2.counted(b, c); got != bcn {
		return fmt.Errorf("counted(b, c) = %d on a fresh calendar, %d after counted(a, c)", got, bcn)
	}
	if got := k2.counted(a, b); got != abn {
		return fmt.Errorf("counted(a, b) = %d on a calendar grown backwards, %d before", got, abn)
	}

	// Goals up to 90 days, and within two years of the calendar's open
	// time: a due centuries away only makes the timeline long.
	weekly := int64(7 * 86400)
	if !cal.IsAlwaysOpen() {
		weekly = 0
		for _, rs := range cal.Hours {
			for _, r := range rs {
				weekly += int64(r.To-r.From) * 60
			}
		}
	}
	d := 1 + goal%min(90*86400, 104*weekly)
	due := k.after(a, d)
	if due != never {
		if got := k.counted(a, due); got != d {
			return fmt.Errorf("counted(a, due) = %d, goal %d (a %s, due %s)", got, d, fmtUnix(a), fmtUnix(due))
		}
		if got := k.counted(a, due+1); got != d+1 {
			return fmt.Errorf("due %s is not the latest instant within the goal: counted(a, due+1s) = %d, goal %d", fmtUnix(due), got, d)
		}
		if dl := cal2.Deadline("", time.Unix(a, 0), time.Duration(d)*time.Second); dl.Unix() != due {
			return fmt.Errorf("Deadline = %s, clock due %s", dl.Format(time.RFC3339), fmtUnix(due))
		}
	}
	if due2 := k.after(a, d+extra); due2 < due {
		return fmt.Errorf("goal %d is due %s, earlier than goal %d due %s", d+extra, fmtUnix(due2), d, fmtUnix(due))
	}

	var sum, last int64 = 0, a
	var err error
	cal.OpenStretches("", time.Unix(a, 0), time.Unix(c, 0), func(from, to time.Time) bool {
		f, e := from.Unix(), to.Unix()
		if f < last || e <= f || e > c {
			err = fmt.Errorf("stretch [%s, %s) after %s in [a, c) = [%s, %s)", fmtUnix(f), fmtUnix(e), fmtUnix(last), fmtUnix(a), fmtUnix(c))
			return false
		}
		sum += e - f
		last = e
		return true
	})
	if err != nil {
		return err
	}
	if sum != ac {
		return fmt.Errorf("open stretches add up to %d, counted(a, c) = %d", sum, ac)
	}

	loc := cal.LocationFor("")
	m := a - a%60
	open := oc.openAt(loc, time.Unix(m, 0))
	if got := k.counted(m, m+60); got != 0 && got != 60 || (got == 60) != open {
		return fmt.Errorf("minute %s (%s): counted %ds, the wall clock says open=%v", fmtUnix(m), time.Unix(m, 0).In(loc).Format(time.RFC3339), got, open)
	}
	return nil
}
