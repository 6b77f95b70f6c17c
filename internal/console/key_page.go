package console

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// keyPageData is the key page: details, editable settings, usage, events.
type keyPageData struct {
	Row    keyRow
	Type   *latchkey.KeyType
	Form   keyForm
	Events []*latchkey.Event
	Chart  template.HTML
	Usage  usageTotals
	// Back is the table the key belongs in: the workspace's or the profile's.
	Back string
	// ScimCustomAttributes is the workspace-wide switch every SCIM key shows.
	ScimCustomAttributes bool
}

// keyPage shows one key. Keys of other workspaces, and keys a member may
// not see, are 404s answered by the service.
func (c *Console) keyPage(w http.ResponseWriter, r *http.Request, pg *page) {
	k, err := c.svc.Key(r.Context(), pg.P, pg.WS.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	f := keyForm{Name: k.Name, Description: k.Description, CallbackURL: k.CallbackURL, Scopes: k.Scopes, Settings: map[string]string{},
		AllowedIPs: strings.Join(k.AllowedIPs, "\n"), Rate: rateFieldOf(k.RateLimit), Budget: budgetFieldOf(k), HasBudget: true}
	for name, v := range k.Settings {
		if s, ok := v.(string); ok {
			f.Settings[name] = s
		}
	}
	pg.Flash = flash(r.URL.Query().Get("done"))
	c.renderKeyPage(w, r, pg, http.StatusOK, k, f)
}

func (c *Console) renderKeyPage(w http.ResponseWriter, r *http.Request, pg *page, status int, k *latchkey.Key, f keyForm) {
	d := keyPageData{Row: c.row(k, pg, c.notice(r, pg), c.memberNames(r, pg)), Form: f, Back: pg.Base() + "/keys"}
	if k.Owner == pg.P.UserID && !pg.CanAll(string(latchkey.ActKeysRead)) {
		d.Back = pg.Base() + "/profile/keys"
	}
	d.Type, _ = c.svc.Catalog().Type(k.Type)
	if pg.Can(string(latchkey.ActEventsRead)) {
		evs, _, err := c.svc.Events(r.Context(), pg.P, pg.WS.ID, latchkey.EventFilter{Target: k.ID, Limit: 20})
		if err != nil {
			c.fail(w, r, pg, err)
			return
		}
		d.Events = evs
	}
	to := c.svc.Now()
	from := to.Add(-29 * latchkey.Day).Truncate(24 * time.Hour)
	days, err := c.svc.KeyUsage(r.Context(), pg.P, pg.WS.ID, k.ID, from, to)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	d.Chart, d.Usage = usageChart(days, from, 30)
	if k.Type == latchkey.TypeSCIM {
		if s, err := c.svc.Settings(r.Context(), pg.P, pg.WS.ID); err == nil {
			d.ScimCustomAttributes = s.ScimCustomAttributes
		}
	}
	pg.Title, pg.Nav, pg.Data = k.Name, "keys", d
	if d.Back != pg.Base()+"/keys" {
		pg.Nav = "profile"
	}
	c.render(w, r, status, "key", pg)
}

// keyUpdate saves the key's editable settings: name, description,
// callback URL, allowed networks, rate limit, scopes and the type's
// settings. A field the form does not post stays as it is.
func (c *Console) keyUpdate(w http.ResponseWriter, r *http.Request, pg *page) {
	k, err := c.svc.Key(r.Context(), pg.P, pg.WS.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	f := parseKeyForm(r)
	in := manage.UpdateKey{Name: &f.Name, Description: &f.Description, CallbackURL: &f.CallbackURL}
	if f.HasAllowedIPs {
		allowed := f.allowedIPs()
		in.AllowedIPs = &allowed
	}
	if f.HasRate {
		rate, err := f.Rate.parse()
		if err != nil {
			pg.setError(err)
			c.renderKeyPage(w, r, pg, http.StatusUnprocessableEntity, k, f)
			return
		}
		in.RateLimit, in.ClearRateLimit = rate, rate == nil
	}
	if f.HasBudget {
		if err := budgetUpdate(f.Budget, &in); err != nil {
			pg.setError(err)
			c.renderKeyPage(w, r, pg, http.StatusUnprocessableEntity, k, f)
			return
		}
	}
	if t, ok := c.svc.Catalog().Type(k.Type); ok {
		if len(t.Scopes) > 0 {
			scopes := f.Scopes
			if scopes == nil {
				scopes = []string{}
			}
			in.Scopes = &scopes
		}
		if len(t.Settings) > 0 {
			in.Settings = f.settings(t)
		}
	}
	if _, err := c.svc.UpdateKey(r.Context(), pg.P, pg.WS.ID, k.ID, in); err != nil {
		if !isUserError(err) {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		c.renderKeyPage(w, r, pg, http.StatusUnprocessableEntity, k, f)
		return
	}
	redirect(w, r, pg.Base()+"/keys/"+k.ID+"?done=saved")
}

// budgetUpdate adds the usage-based section's changes to in: credits are
// set again only when they differ from what the page showed, since that
// voids what instances leased.
func budgetUpdate(f budgetField, in *manage.UpdateKey) error {
	if f.creditsChanged() {
		c, err := f.credits()
		if err != nil {
			return err
		}
		in.Credits, in.ClearCredits = c, c == nil
	}
	if f.limitsChanged() {
		ls, err := f.limits()
		if err != nil {
			return err
		}
		in.RateLimits = &ls
	}
	return nil
}
