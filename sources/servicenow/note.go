package servicenow

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

var _ sources.Noter = (*source)(nil)

// Note writes text as a work note on the record of id, which is the
// record's sys_id (sla.Case.ID; its number is sla.Case.Key), through the
// Table API's record update (ServiceNow docs, "Table API",
// PATCH /now/table/{tableName}/{sys_id}):
//
//	PATCH /api/now/table/{table}/{sys_id}?sysparm_fields=sys_id
//	{"work_notes": "…"}
//
// Work notes are the journal field only the fulfillers see; additional
// comments (comments) would reach the caller. sysparm_fields keeps the
// answer to the sys_id. The API user needs write access to the table's
// work_notes field (on incident, the itil role).
func (s *source) Note(ctx context.Context, id, text string) error {
	_, err := s.client.Do(ctx, rest.Request{
		Once:   true,
		Method: http.MethodPatch,
		Path:   tablePrefix + s.table + "/" + url.PathEscape(id),
		Query:  url.Values{"sysparm_fields": {"sys_id"}},
		Body:   map[string]string{"work_notes": text},
	}, nil)
	if err != nil {
		return fmt.Errorf("writing a work note on %s %s: %w", s.table, id, err)
	}
	return nil
}
