// Package rt is the source that reads tickets from Request Tracker (RT 5)
// through its REST2 API.
//
// The ticket search (GET /REST/2.0/tickets?query=<TicketSQL>&fields=…,
// 100 a page, ordered by id) finds the tickets; for each one it returns,
// the ticket's history (GET /REST/2.0/ticket/N/history?fields=Type,
// Creator,Created,Field,OldValue,NewValue) gives its status and priority
// history and its first response. The first Sync reads the active tickets
// and those resolved since the start of the previous month (UTC) and sets
// Full; its cursor is the latest LastUpdated seen, and each later Sync
// reads the tickets with LastUpdated at or after the cursor less the
// overlap, skipping those it returned for that cursor already unchanged,
// and the transactions that deleted or merged a ticket since (GET
// /REST/2.0/transactions), whose ids go to Batch.Deleted. Window reads
// the tickets created before its end that were active or resolved after
// its start.
//
// # Configuration
//
//	sources:
//	  - name: helpdesk
//	    type: rt
//	    policy: acme-support
//	    url: https://rt.example.com      # RT's web address, with its web path if any
//	    token: ${RT_TOKEN}               # or token_file; or username + password/password_file
//	    queues: [Support]                # optional; or query: TicketSQL (both: AND)
//	    timezone: UTC                    # the API user's time zone, in which RT reads TicketSQL dates
//	    requests_per_minute: 0           # client-side budget; 0 none
//	    overlap: 5m                      # how far back an incremental sync reads again
//	    mapping:
//	      customer_field: Customer       # a ticket custom field; default: the requestor's Organization
//	      tiers: {Premium: premium}      # RT SLA level → policy tier; default: same name, any case
//	      severity: {1: 90, 2: 70, 3: 40, 4: 0}  # the lowest priority of each severity
//	      waiting_statuses: [stalled]    # → pending_customer
//	      hold_statuses: []              # → on_hold
//	      resolved_statuses: [resolved]  # → resolved
//	      closed_statuses: [rejected]    # → closed
//
// # Mapping
//
//   - id: the ticket number; url: <url>/Ticket/Display.html?id=N.
//   - status: by the lists above; any other status (new, open, a custom
//     active one) is open. A deleted ticket is no case: an incremental
//     Sync reports it (and a ticket merged into another) in Deleted.
//   - severity: RT priorities are numbers (0–100 by default): a priority
//     has the severity of the highest threshold it reaches, by default
//     ≥90 → 1, ≥70 → 2, ≥40 → 3, else 4. A given map replaces the default;
//     a priority below all its thresholds has no severity (the policy's
//     default applies). Priority changes ("Set" Priority transactions)
//     make the severity history.
//   - tier: RT's own SLA level, through tiers, else the policy tier of
//     the same name in any case; an SLA level that is no tier leaves the
//     tier to the customer table.
//   - customer: the custom field's value, else the Organization of the
//     first requestor that has one.
//   - first response: the first Correspond transaction by someone who is
//     not a requestor of the ticket, or by its owner. That is RT's own
//     rule for its Response deadlines (RT::Action::SLA_SetDue without
//     AssumeOutsideActor): a privileged user who is also a requestor does
//     not respond, and an unprivileged Cc who replies does. Comments never
//     count, and neither does the ticket's creation.
//   - resolved: RT's Resolved while the status is resolved or closed.
//   - source due: RT's Due (the SLA deadline it holds), unset as
//     1970-01-01T00:00:00Z.
//
// # Time zone
//
// RT reads the dates of a TicketSQL query in the API user's time zone
// (the user's Timezone preference, else RT's $Timezone), and ignores a
// "Z" or an offset in them; set timezone to that zone. Every answer's
// dates are UTC.
//
// # Rights
//
// The API user needs SeeQueue and ShowTicket on the queues read, and
// SeeCustomField for customer_field. A user with ShowTicket at the
// global level (or RT's default $UseSQLForACLChecks) gets exact page
// counts; for histories, which RT counts for superusers only, a short page
// is taken as the last, so give ShowTicketComments and ShowOutgoingEmail
// as well: then no transaction of a page is hidden and a ticket with more
// than 100 transactions is read whole. The user needs no right to write.
package rt
