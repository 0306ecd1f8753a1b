package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

var _ sources.Noter = (*source)(nil)

// Note writes text as an internal comment on the issue of id (the issue's
// numeric id, sla.Case.ID), through Jira Service Management's
// "Create request comment":
//
//	POST /rest/servicedeskapi/request/{issueIdOrKey}/comment
//	{"body": "…", "public": false}
//
// The same endpoint and payload exist on Cloud and on Data Center
// (Cloud: developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request,
// "Create request comment"; Data Center: the servicedeskapi's
// "customer request / comment" resource, "Add a public or internal comment
// on an existing customer request"), and the body is plain text on both,
// unlike the platform API (ADF on Cloud's v3, with the sd.public.comment
// property for an internal comment). The API user must be an agent of the
// service project with the Add Comments permission; the issue must be a
// customer request (an issue of a service project).
func (s *source) Note(ctx context.Context, id, text string) error {
	body := map[string]any{"body": text, "public": false}
	_, err := s.client.Do(ctx, rest.Request{
		Once:   true,
		Method: http.MethodPost,
		Path:   "/rest/servicedeskapi/request/" + url.PathEscape(id) + "/comment",
		Body:   body,
	}, nil)
	if err != nil {
		return fmt.Errorf("writing an internal comment on Jira issue %s: %w", id, err)
	}
	return nil
}
