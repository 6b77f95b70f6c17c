package console

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey"
)

// eventService is what the activity page uses.
type eventService interface {
	Events(ctx context.Context, p latchkey.Principal, ws string, f latchkey.EventFilter) ([]*latchkey.Event, string, error)
}

// activityData is the audit log with its filters.
type activityData struct {
	Events  []*latchkey.Event
	Filter  url.Values
	Actions []string
	Next    string
	First   string
	// ExportNDJSON and ExportCSV are the API's export with the same
	// filters; built here, every value query-escaped.
	ExportNDJSON, ExportCSV template.URL
}

// actionPrefixes are the filter's choices: every family of audit actions.
var actionPrefixes = []string{"key.", "auth.", "member.", "settings.", "scim_key.", "workspace."}

// activity is the workspace's audit log, newest first, filterable by
// action (exact or a family such as "key."), target id, actor (a person's
// email or an id) and a range of days, with links to export what it shows.
func (c *Console) activity(w http.ResponseWriter, r *http.Request, pg *page) {
	q := r.URL.Query()
	f := latchkey.EventFilter{Action: q.Get("action"), Target: q.Get("target"), Actor: q.Get("actor"), Limit: 50, Cursor: q.Get("cursor")}
	export := url.Values{}
	for _, name := range []string{"action", "target", "actor"} {
		if v := q.Get(name); v != "" {
			export.Set(name, v)
		}
	}
	var err error
	if from := q.Get("from"); from != "" {
		if t, perr := time.Parse(time.DateOnly, from); perr == nil {
			f.From = &t
			export.Set("from", t.Format(time.RFC3339))
		} else {
			err = latchkey.Errorf(latchkey.EINVALID, "the first day must be a date such as 2026-01-31")
		}
	}
	if to := q.Get("to"); to != "" {
		// The whole last day counts.
		if t, perr := time.Parse(time.DateOnly, to); perr == nil {
			end := t.Add(24*time.Hour - time.Microsecond)
			f.To = &end
			export.Set("to", end.Format(time.RFC3339Nano))
		} else {
			err = latchkey.Errorf(latchkey.EINVALID, "the last day must be a date such as 2026-01-31")
		}
	}
	var evs []*latchkey.Event
	var next string
	if err == nil {
		evs, next, err = c.svc.Events(r.Context(), pg.P, pg.WS.ID, f)
	}
	if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
		c.fail(w, r, pg, err)
		return
	}
	if err != nil {
		pg.Error = latchkey.ErrorMessage(err)
	}
	d := activityData{Events: evs, Filter: q, Actions: actionPrefixes}
	base := "/v1/workspaces/" + url.PathEscape(pg.WS.ID) + "/events/export?"
	d.ExportNDJSON = template.URL(base + export.Encode())
	export.Set("format", "csv")
	d.ExportCSV = template.URL(base + export.Encode())
	if next != "" {
		nq := cloneValues(q)
		nq.Set("cursor", next)
		d.Next = nq.Encode()
	}
	if q.Get("cursor") != "" {
		fq := cloneValues(q)
		fq.Del("cursor")
		d.First = fq.Encode()
	}
	pg.Title, pg.Nav, pg.Data = "Activity", "activity", d
	c.render(w, r, http.StatusOK, "activity", pg)
}
