package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// keyService is what the key handlers use.
type keyService interface {
	CreateKey(ctx context.Context, p latchkey.Principal, ws string, in manage.CreateKey) (*latchkey.Key, string, error)
	ListKeys(ctx context.Context, p latchkey.Principal, ws string, f latchkey.KeyFilter) ([]*latchkey.Key, string, error)
	Key(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error)
	UpdateKey(ctx context.Context, p latchkey.Principal, ws, keyID string, in manage.UpdateKey) (*latchkey.Key, error)
	RevokeKey(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error)
	DisableKey(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error)
	EnableKey(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error)
	ResetKey(ctx context.Context, p latchkey.Principal, ws, keyID string, grace time.Duration) (*latchkey.Key, string, error)
	DeleteKey(ctx context.Context, p latchkey.Principal, ws, keyID string) error
	KeyUsage(ctx context.Context, p latchkey.Principal, ws, keyID string, from, to time.Time) ([]latchkey.UsageDay, error)
	KeyUsageTags(ctx context.Context, p latchkey.Principal, ws, keyID string, from, to time.Time) ([]latchkey.UsageTag, error)
	// NoticeWindows are the workspace's expiry notice windows, for a key's status.
	NoticeWindows(ctx context.Context, ws string) ([]latchkey.Duration, error)
	Now() time.Time
}

// keyView is a key as the API shows it: with its derived status.
type keyView struct {
	*latchkey.Key
	Status latchkey.Status `json:"status"`
}

func view(k *latchkey.Key, now time.Time, windows []latchkey.Duration) keyView {
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	if k.Settings == nil {
		k.Settings = map[string]any{}
	}
	if k.Credits != nil && k.Credits.Refill != nil {
		// A refill is due since the store last counted: show it.
		c := *k.Credits
		c.Remaining = c.EffectiveAt(now)
		k.Credits = &c
	}
	return keyView{Key: k, Status: k.Status(now, k.NoticeWindow(windows))}
}

// withSecret is the answer of create and reset: the only time a secret is sent.
type withSecret struct {
	Key    keyView `json:"key"`
	Secret string  `json:"secret"`
}

func (a *API) keyAnswer(w http.ResponseWriter, r *http.Request, status int, ws string, k *latchkey.Key, secret string) {
	windows, err := a.svc.NoticeWindows(r.Context(), ws)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v := view(k, a.svc.Now(), windows)
	if secret != "" {
		writeJSON(w, status, withSecret{Key: v, Secret: secret})
		return
	}
	writeJSON(w, status, map[string]keyView{"key": v})
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in manage.CreateKey
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	k, secret, err := a.svc.CreateKey(r.Context(), p, ws, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.keyAnswer(w, r, http.StatusCreated, ws, k, secret)
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
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
	f := latchkey.KeyFilter{
		Status: latchkey.Status(q.Get("status")), Type: q.Get("type"),
		Environment: latchkey.Environment(q.Get("environment")), Owner: q.Get("owner"),
		Query: q.Get("q"), ExternalID: q.Get("external_id"), Limit: limit, Cursor: q.Get("cursor"),
	}
	keys, next, err := a.svc.ListKeys(r.Context(), p, ws, f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	windows, err := a.svc.NoticeWindows(r.Context(), ws)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := list[keyView]{Data: make([]keyView, 0, len(keys)), NextCursor: next}
	now := a.svc.Now()
	for _, k := range keys {
		out.Data = append(out.Data, view(k, now, windows))
	}
	writeJSON(w, http.StatusOK, out)
}

// query parses the query string strictly: a malformed one is a 400, not
// silently an empty filter.
func query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "malformed query string")
	}
	return q, nil
}

func intParam(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		return 0, latchkey.Errorf(latchkey.EINVALID, "limit must be a whole number between 1 and 200").WithDetail("field", "limit")
	}
	return n, nil
}

func (a *API) getKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	k, err := a.svc.Key(r.Context(), p, ws, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.keyAnswer(w, r, http.StatusOK, ws, k, "")
}

// patchRequest is UpdateKey as it arrives: rate_limit and credits raw, so
// that an explicit null (remove the limit, make the key unlimited)
// differs from absence.
type patchRequest struct {
	manage.UpdateKey
	RateLimit json.RawMessage `json:"rate_limit"`
	Credits   json.RawMessage `json:"credits"`
}

func (a *API) patchKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in patchRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	up := in.UpdateKey
	switch raw := bytes.TrimSpace(in.RateLimit); {
	case len(raw) == 0:
	case bytes.Equal(raw, []byte("null")):
		up.ClearRateLimit = true
	default:
		var rl latchkey.RateLimit
		if err := Decode(bytes.NewReader(raw), &rl, false); err != nil {
			a.fail(w, r, err)
			return
		}
		up.RateLimit = &rl
	}
	switch raw := bytes.TrimSpace(in.Credits); {
	case len(raw) == 0:
	case bytes.Equal(raw, []byte("null")):
		up.ClearCredits = true
	default:
		var c latchkey.CreditsInput
		if err := Decode(bytes.NewReader(raw), &c, false); err != nil {
			a.fail(w, r, err)
			return
		}
		up.Credits = &c
	}
	k, err := a.svc.UpdateKey(r.Context(), p, ws, r.PathValue("id"), up)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.keyAnswer(w, r, http.StatusOK, ws, k, "")
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		a.fail(w, r, err)
		return
	}
	k, err := a.svc.RevokeKey(r.Context(), p, ws, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.keyAnswer(w, r, http.StatusOK, ws, k, "")
}

func (a *API) disableKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	a.switchKey(w, r, p, ws, a.svc.DisableKey)
}

func (a *API) enableKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	a.switchKey(w, r, p, ws, a.svc.EnableKey)
}

func (a *API) switchKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string,
	fn func(context.Context, latchkey.Principal, string, string) (*latchkey.Key, error)) {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		a.fail(w, r, err)
		return
	}
	k, err := fn(r.Context(), p, ws, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.keyAnswer(w, r, http.StatusOK, ws, k, "")
}

type resetRequest struct {
	GracePeriod *latchkey.Duration  `json:"grace_period"`
	SaveToVault *manage.SaveToVault `json:"save_to_vault"`
}

func (a *API) resetKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in resetRequest
	if err := decode(w, r, &in, true); err != nil {
		a.fail(w, r, err)
		return
	}
	var grace time.Duration
	if in.GracePeriod != nil {
		grace = time.Duration(*in.GracePeriod)
	}
	k, secret, err := a.svc.ResetKeyInto(r.Context(), p, ws, r.PathValue("id"), grace, in.SaveToVault)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.keyAnswer(w, r, http.StatusOK, ws, k, secret)
}

func (a *API) deleteKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	if err := a.svc.DeleteKey(r.Context(), p, ws, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) keyUsage(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	from, to, err := a.usageRange(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	days, err := a.svc.KeyUsage(r.Context(), p, ws, r.PathValue("id"), from, to)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if days == nil {
		days = []latchkey.UsageDay{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": days})
}

func (a *API) keyUsageTags(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	from, to, err := a.usageRange(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	tags, err := a.svc.KeyUsageTags(r.Context(), p, ws, r.PathValue("id"), from, to)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if tags == nil {
		tags = []latchkey.UsageTag{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": tags})
}

// usageRange reads from and to: the last 30 days by default.
func (a *API) usageRange(r *http.Request) (from, to time.Time, err error) {
	q, err := query(r)
	if err != nil {
		return from, to, err
	}
	to = a.svc.Now()
	from = to.Add(-30 * latchkey.Day)
	if s := q.Get("from"); s != "" {
		if from, err = parseDay("from", s); err != nil {
			return from, to, err
		}
	}
	if s := q.Get("to"); s != "" {
		if to, err = parseDay("to", s); err != nil {
			return from, to, err
		}
	}
	return from, to, nil
}

// parseDay reads a date (2026-01-31) or an RFC 3339 time.
func parseDay(field, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, latchkey.Errorf(latchkey.EINVALID, "%s must be a date (2026-01-31) or an RFC 3339 time", field).WithDetail("field", field)
}
