package demo

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
)

// Customer is a simulated customer.
type Customer struct {
	Name     string
	Tier     string
	Timezone string
}

type customer struct {
	Customer
	loc    *time.Location
	weight int // relative number of cases opened
}

// Customers returns the simulated customers: the customers table the
// demo's cases agree with.
func (s *Simulator) Customers() []Customer {
	out := make([]Customer, len(s.customers))
	for i, c := range s.customers {
		out[i] = c.Customer
	}
	return out
}

// customerNames are fictional companies; more customers than names get
// numbered copies.
var customerNames = []string{
	"acme", "globex", "initech", "umbrella", "hooli", "soylent", "stark",
	"wayne", "wonka", "cyberdyne", "tyrell", "aperture", "oscorp",
	"vandelay", "dunder-mifflin", "pied-piper", "gringotts", "virtucon",
	"massive-dynamic", "nakatomi", "weyland", "duff", "krusty", "sirius",
	"black-mesa", "bluth", "tricell", "nostromo", "buy-n-large", "gekko",
	"dharma", "cogswell", "spacely", "omni", "rekall", "lacuna", "monarch",
	"prestige", "wernham-hogg", "los-pollos", "sterling-cooper", "zorg",
	"genco", "oceanic", "blue-sun", "mom-corp", "veridian", "contoso",
}

// zones are the customers' time zones, each with a weight: Europe and
// North America open most cases, so that the working-hours bias shows.
var zones = []struct {
	name   string
	weight int
}{
	{"Europe/Paris", 18},
	{"Europe/Berlin", 15},
	{"Europe/London", 14},
	{"America/New_York", 16},
	{"America/Chicago", 10},
	{"Asia/Tokyo", 9},
	{"Asia/Singapore", 10},
	{"Australia/Sydney", 8},
}

// tierWeights is the share of customers of each tier of the veeam preset:
// mostly basic and production, some premium, a few evaluation and free.
// A tier of another policy gets otherTierWeight.
var tierWeights = map[string]int{
	"basic":      35,
	"production": 28,
	"premium":    17,
	"evaluation": 10,
	"free":       10,
}

const otherTierWeight = 15

// makeCustomers draws the fixed customer list of a seed.
func makeCustomers(seed int64, n int, policy *sla.Policy) []customer {
	r := rand.New(rand.NewPCG(mix(uint64(seed)), 0x637573746f6d6572)) // "customer"
	names := slices.Clone(customerNames)
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	tiers := tierQuota(n, policy)
	r.Shuffle(len(tiers), func(i, j int) { tiers[i], tiers[j] = tiers[j], tiers[i] })

	zoneTotal := 0
	for _, z := range zones {
		zoneTotal += z.weight
	}
	out := make([]customer, n)
	for i := range out {
		c := &out[i]
		c.Name = names[i%len(names)]
		if i >= len(names) {
			c.Name += "-" + strconv.Itoa(i/len(names)+1)
		}
		c.Tier = tiers[i]
		x := r.IntN(zoneTotal)
		for _, z := range zones {
			if x < z.weight {
				c.Timezone = z.name
				break
			}
			x -= z.weight
		}
		var err error
		if c.loc, err = time.LoadLocation(c.Timezone); err != nil {
			// Without a time zone database, the case says nothing of
			// its zone rather than name one nothing can load.
			c.Timezone, c.loc = "", time.UTC
		}
		// A few customers open many cases, most open a few.
		c.weight = 1 + r.IntN(4)
	}
	return out
}

// tierQuota returns n tier names in the shares of tierWeights, every tier
// of the policy at least once when n allows, so that tiers whose goals are
// none or best effort always have customers.
func tierQuota(n int, policy *sla.Policy) []string {
	var names []string
	if policy != nil {
		for name := range policy.Tiers {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return make([]string, n) // the policy's default tier applies
	}
	weight := func(t string) int {
		if w, ok := tierWeights[t]; ok {
			return w
		}
		return otherTierWeight
	}
	total := 0
	for _, t := range names {
		total += weight(t)
	}
	// Largest remainder, then take from the biggest for the empty ones.
	counts := make([]int, len(names))
	rems := make([]int, len(names))
	given := 0
	for i, t := range names {
		counts[i] = n * weight(t) / total
		rems[i] = n * weight(t) % total
		given += counts[i]
	}
	for ; given < n; given++ {
		best := 0
		for i := range rems {
			if rems[i] > rems[best] {
				best = i
			}
		}
		counts[best]++
		rems[best] = -1
	}
	for i := range counts {
		if counts[i] == 0 && n >= len(names) {
			big := 0
			for j := range counts {
				if counts[j] > counts[big] {
					big = j
				}
			}
			counts[big]--
			counts[i]++
		}
	}
	out := make([]string, 0, n)
	for i, t := range names {
		for range counts[i] {
			out = append(out, t)
		}
	}
	return out
}

// pickCustomer draws a customer index by activity weight.
func (s *Simulator) pickCustomer(r *rand.Rand) int {
	x := r.IntN(s.cumWeight[len(s.cumWeight)-1])
	i, _ := slices.BinarySearch(s.cumWeight, x+1)
	return i
}
