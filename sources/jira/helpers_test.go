package jira

import (
	"encoding/json"

	"github.com/support-sla/support_sla_exporter/sla"
)

func jsonRoundTrip(b []byte, c *sla.Case) error { return json.Unmarshal(b, c) }

// utc puts every instant of a case in UTC.
func utc(c sla.Case) sla.Case {
	c.Created, c.FirstResponse, c.Resolved = c.Created.UTC(), c.FirstResponse.UTC(), c.Resolved.UTC()
	for i := range c.StatusHistory {
		c.StatusHistory[i].At = c.StatusHistory[i].At.UTC()
	}
	for i := range c.SeverityHistory {
		c.SeverityHistory[i].At = c.SeverityHistory[i].At.UTC()
	}
	return c
}
