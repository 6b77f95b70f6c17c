package api

import (
	"context"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// eventService is what the audit log handler uses.
type eventService interface {
	Events(ctx context.Context, p latchkey.Principal, ws string, f latchkey.EventFilter) ([]*latchkey.Event, string, error)
}

// settingsService is what the settings handlers use.
type settingsService interface {
	Settings(ctx context.Context, p latchkey.Principal, ws string) (*latchkey.Settings, error)
	UpdateSettings(ctx context.Context, p latchkey.Principal, ws string, in manage.SettingsPatch) (*latchkey.Settings, error)
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	q, err := query(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f := latchkey.EventFilter{Action: q.Get("action"), Target: q.Get("target"), Actor: q.Get("actor"), Limit: limit, Cursor: q.Get("cursor")}
	for name, dst := range map[string]**time.Time{"from": &f.From, "to": &f.To} {
		if s := q.Get(name); s != "" {
			t, err := parseDay(name, s)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			*dst = &t
		}
	}
	evs, next, err := a.svc.Events(r.Context(), p, ws, f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if evs == nil {
		evs = []*latchkey.Event{}
	}
	writeJSON(w, http.StatusOK, list[*latchkey.Event]{Data: evs, NextCursor: next})
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	s, err := a.svc.Settings(r.Context(), p, ws)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}
