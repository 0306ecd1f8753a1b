// Package policy loads SLA policies from YAML into compiled *sla.Policy
// values: the policies of a configuration file (Decode, Parse) and the
// built-in presets (Preset), which are embedded files of the same format read
// by the same decoder. Every problem is reported with its file, line and key
// path, and decoding goes on after one so that a single run lists them all.
//
// # Format
//
//	policies:
//	  NAME:
//	    preset: veeam             # optional: start from a built-in preset (below)
//	    default_tier: basic       # the tier of a case that names none; optional
//	    default_severity: 3       # 1..4, default 3
//	    warning_ratio: 0.75       # in (0, 1], default 0.75
//	    pause_statuses: [pending_customer]   # the default
//	    calendars:
//	      CALENDAR:
//	        timezone: Europe/Paris           # required, an IANA zone
//	        customer_timezone: true          # count in the case's zone when it has one
//	        hours:                           # mon..sun; a day not listed is closed
//	          mon: ["08:00-12:00", "13:00-20:00"]
//	        holidays:
//	          dates: ["2026-12-25"]          # YYYY-MM-DD, local dates closed all day
//	          country: FR                    # or a list: [FR, DE-BY]
//	        exclusions:                      # recurring closed windows
//	          - {weekday: wed, weeks: [1, -3, -2, -1], from: "00:00", to: "06:00"}
//	    tiers:
//	      TIER:
//	        calendar: CALENDAR               # default 24x7
//	        first_response: {1: 30m, 2: 2h, 3: best_effort}
//	        resolution: {1: {goal: 8h, calendar: 24x7, pausable: false}}
//	    exclude:                             # cases with no SLA at all
//	      - {label: experimental}
//	      - {type: feedback, customer: acme} # every field given must match
//
// Hours are half-open "HH:MM-HH:MM" ranges of local wall-clock time; "24:00"
// may end a range; the ranges of a day are listed in order and do not
// overlap (adjacent ranges are fine). A range cannot cross midnight: split it
// over two days. The calendar 24x7 is built in, always open, and cannot be
// redefined; every compiled policy has it in its Calendars.
//
// holidays.country takes a country code (ISO 3166-1, such as FR) or a
// subdivision code (ISO 3166-2, such as DE-BY, CH-ZH or AU-NSW), or a list of
// them whose holidays are combined; the holidays are the lists that
// github.com/rickar/cal/v2 publishes for that code, on their observed dates.
// Codes are not case-sensitive.
//
// An exclusion's weeks are occurrences of its weekday in the month: 1 is the
// first, -1 the last; 1..5 and -1..-5 are allowed; no weeks means every week.
// Its from and to default to "00:00" and "24:00" (the whole day). A calendar
// whose exclusions close every one of its open hours is an error.
//
// A goal is a duration in whole seconds (90s, 30m, 8h, 1d = 24h, at most 10
// years), none (no SLA for that severity: not_applicable) or best_effort; or
// a mapping {goal: ..., calendar: NAME, pausable: BOOL} that overrides the
// tier's calendar or the target's default pausing (resolution pauses,
// first_response does not). Goals are keyed by severity 1 to 4; a severity
// left out is none. A tier needs first_response, resolution or both; a
// target given as an empty mapping is none for every severity. A policy
// needs at least one tier. Without default_tier, evaluating a case that has
// no tier (from itself or the customers table) is an error.
//
// # Presets
//
// The presets reproduce four published support policies; their files in
// presets/ quote the facts each line encodes. veeam, veeam-vcsp and kasten
// count business hours in the case's own time zone, in UTC for a case that
// has none, and name no public holidays; their default tier is basic.
// cloud-avenue counts in Europe/Paris around its maintenance windows; its
// default tier is standard. Every preset's default severity is 3.
//
// preset: NAME names a built-in preset (see PresetNames), never another
// policy of the file. The policy starts as a copy of the preset, and the
// keys it gives override it:
//   - default_tier, default_severity, warning_ratio, pause_statuses and
//     exclude given replace the preset's value (exclude: [] removes the
//     preset's exclusion rules);
//   - each calendar given replaces the preset's calendar of that name, or
//     adds one; the preset's tiers and goals that name it count in the new
//     one;
//   - each tier given replaces the preset's tier of that name entirely (its
//     calendar and every target and goal), or adds one;
//   - the preset's other calendars and tiers are kept as they are: a tier or
//     calendar cannot be removed.
//
// Each compiled policy has calendars of its own: calendars memoise their
// timelines, so no *sla.Calendar is shared by two policies.
package policy
