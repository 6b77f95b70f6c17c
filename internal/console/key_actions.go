package console

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// confirmData is a confirmation page for one of the ⋮ menu's actions.
type confirmData struct {
	Row    keyRow
	Action string // reset, revoke or delete
	Grace  string
	Graces []graceOption
}

// graceOption is a choice of how long a reset key's old secret keeps working.
type graceOption struct{ Value, Label string }

var graces = []graceOption{
	{"0s", "Stop the old secret now"}, {"1h", "1 hour"}, {"24h", "1 day"}, {"168h", "7 days"},
}

// confirmPage loads the key for action a and shows its confirmation page.
func (c *Console) confirmPage(w http.ResponseWriter, r *http.Request, pg *page, a latchkey.Action, name string) {
	k, err := c.svc.Key(r.Context(), pg.P, pg.WS.ID, r.PathValue("id"))
	if err == nil && !pg.CanKey(string(a), k) {
		err = latchkey.Errorf(latchkey.ENOTFOUND, "no such page")
	}
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	titles := map[string]string{"reset": "Reset API key", "revoke": "Revoke API key", "delete": "Delete API key"}
	pg.Title, pg.Nav = titles[name]+": "+k.Name, "keys"
	pg.Data = confirmData{Row: c.row(k, pg, c.notice(r, pg), c.memberNames(r, pg)), Action: name, Grace: "0s", Graces: graces}
	c.render(w, r, http.StatusOK, "confirm", pg)
}

func (c *Console) resetPage(w http.ResponseWriter, r *http.Request, pg *page) {
	c.confirmPage(w, r, pg, latchkey.ActKeyReset, "reset")
}

func (c *Console) revokePage(w http.ResponseWriter, r *http.Request, pg *page) {
	c.confirmPage(w, r, pg, latchkey.ActKeyRevoke, "revoke")
}

func (c *Console) deletePage(w http.ResponseWriter, r *http.Request, pg *page) {
	c.confirmPage(w, r, pg, latchkey.ActKeyDelete, "delete")
}

// reset gives the key a new secret and shows it once, as step 3 of the
// wizard does.
func (c *Console) reset(w http.ResponseWriter, r *http.Request, pg *page) {
	var grace time.Duration
	if g := r.PostFormValue("grace_period"); g != "" {
		d, err := latchkey.ParseDuration(g)
		if err != nil {
			c.fail(w, r, pg, err)
			return
		}
		grace = time.Duration(d)
	}
	k, secret, err := c.svc.ResetKey(r.Context(), pg.P, pg.WS.ID, r.PathValue("id"), grace)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	c.showSecret(w, r, pg, k, secret, secretReset, pg.Base()+"/keys/"+k.ID)
}

// revoke revokes the key permanently.
func (c *Console) revoke(w http.ResponseWriter, r *http.Request, pg *page) {
	k, err := c.svc.RevokeKey(r.Context(), pg.P, pg.WS.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	redirect(w, r, pg.Base()+"/keys/"+k.ID+"?done=revoked")
}

// delete removes the key and returns to the table it was in.
func (c *Console) delete(w http.ResponseWriter, r *http.Request, pg *page) {
	id := r.PathValue("id")
	k, err := c.svc.Key(r.Context(), pg.P, pg.WS.ID, id)
	if err == nil {
		err = c.svc.DeleteKey(r.Context(), pg.P, pg.WS.ID, id)
	}
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	back := pg.Base() + "/keys"
	if k.Owner == pg.P.UserID && !pg.CanAll(string(latchkey.ActKeysRead)) {
		back = pg.Base() + "/profile/keys"
	}
	redirect(w, r, back+"?done=deleted")
}
