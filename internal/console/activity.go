package console

import (
	"context"
	"net/http"
	"net/url"

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
}

// actionPrefixes are the filter's choices: every family of audit actions.
var actionPrefixes = []string{"key.", "auth.", "member.", "settings.", "scim_key.", "workspace."}

// activity is the workspace's audit log, newest first, filterable by
// action (exact or a family such as "key.") and by target id.
func (c *Console) activity(w http.ResponseWriter, r *http.Request, pg *page) {
	q := r.URL.Query()
	evs, next, err := c.svc.Events(r.Context(), pg.P, pg.WS.ID, latchkey.EventFilter{
		Action: q.Get("action"), Target: q.Get("target"), Limit: 50, Cursor: q.Get("cursor"),
	})
	if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
		c.fail(w, r, pg, err)
		return
	}
	if err != nil {
		pg.Error = latchkey.ErrorMessage(err)
	}
	d := activityData{Events: evs, Filter: q, Actions: actionPrefixes}
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
