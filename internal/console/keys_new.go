package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

// ownerFor decides whose key the wizard creates: the visitor's own when
// they ask for a personal key or may create nothing else.
func ownerFor(pg *page, asked string) string {
	if asked == "me" || !pg.CanAll(string(latchkey.ActKeyCreate)) {
		return "me"
	}
	return latchkey.OwnerWorkspace
}

// wizard prepares the wizard's data for the form f.
func (c *Console) wizard(r *http.Request, pg *page, f keyForm) (*wizardData, error) {
	s, err := c.svc.Settings(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		return nil, err
	}
	owner := pg.P.UserID
	if f.Owner == latchkey.OwnerWorkspace {
		owner = latchkey.OwnerWorkspace
	}
	d := &wizardData{
		Form: f, Types: creatableTypes(pg.P, s, c.svc.Catalog(), owner),
		Presets: s.Expiration.Presets, Never: s.Expiration.AllowNeverExpire, Personal: f.Owner == "me",
		Cancel: pg.Base() + "/keys",
	}
	if d.Personal {
		d.Cancel = pg.Base() + "/profile/keys"
	}
	if t, ok := c.svc.Catalog().Type(f.Type); ok {
		d.Type = t
	}
	if len(d.Types) == 0 {
		pg.Error = "You cannot create keys here: this workspace's policy does not allow it for your role."
	}
	return d, nil
}

// wizardStart is step 1: name, description, type, environment, expiration
// and callback URL.
func (c *Console) wizardStart(w http.ResponseWriter, r *http.Request, pg *page) {
	if !pg.Can(string(latchkey.ActKeyCreate)) {
		c.fail(w, r, pg, latchkey.Errorf(latchkey.ENOTFOUND, "no such page"))
		return
	}
	q := r.URL.Query()
	f := keyForm{Owner: ownerFor(pg, q.Get("owner")), Type: q.Get("type"), Environment: string(latchkey.Production), Rate: rateFieldOf(nil)}
	d, err := c.wizard(r, pg, f)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	if d.Type == nil && len(d.Types) > 0 {
		d.Form.Type, d.Type = d.Types[0].Name, d.Types[0]
	}
	if len(d.Presets) > 0 {
		d.Form.Expires = d.Presets[len(d.Presets)-1]
	}
	c.renderWizard(w, r, pg, http.StatusOK, "wizard_details", d)
}

// wizardDetails checks step 1 and shows step 2: scopes and type settings.
func (c *Console) wizardDetails(w http.ResponseWriter, r *http.Request, pg *page) {
	f := parseKeyForm(r)
	f.Owner = ownerFor(pg, f.Owner)
	d, err := c.wizard(r, pg, f)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	if errs := c.checkDetails(r, pg, d); len(errs) > 0 {
		for _, e := range errs {
			pg.setError(e)
		}
		c.renderWizard(w, r, pg, http.StatusUnprocessableEntity, "wizard_details", d)
		return
	}
	if !d.Form.HasRate {
		d.Form.Rate = rateFieldOf(nil)
	}
	if d.Type != nil {
		for _, s := range d.Type.Settings {
			if _, ok := d.Form.Settings[s.Name]; !ok && s.Default != nil {
				d.Form.Settings[s.Name] = fmt.Sprint(s.Default)
			}
		}
	}
	c.renderWizard(w, r, pg, http.StatusOK, "wizard_scopes", d)
}

// checkDetails validates step 1 with the domain's own rules, so mistakes
// show before the visitor picks scopes; the service checks again on create.
func (c *Console) checkDetails(r *http.Request, pg *page, d *wizardData) []error {
	f := d.Form
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	allowed := false
	for _, t := range d.Types {
		allowed = allowed || t.Name == f.Type
	}
	if !allowed {
		add(latchkey.Errorf(latchkey.EINVALID, "choose a key type").WithDetail("field", "type"))
	}
	if !latchkey.Environment(f.Environment).Valid() {
		add(latchkey.Errorf(latchkey.EINVALID, "choose Production or Demo").WithDetail("field", "environment"))
	}
	add(latchkey.ValidateKeyName(f.Name))
	add(latchkey.ValidateDescription(f.Description))
	add(latchkey.ValidateCallbackURL(f.CallbackURL))
	s, err := c.svc.Settings(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		return append(errs, err)
	}
	in, at, err := f.expiry()
	if err == nil {
		_, err = s.Expiration.ResolveExpiry(c.svc.Now(), in, at)
	}
	add(err)
	return errs
}

// wizardCreate takes steps 1 and 2 and creates the key, then shows step 3:
// the secret, this once. "Back" returns to step 1 with everything kept.
func (c *Console) wizardCreate(w http.ResponseWriter, r *http.Request, pg *page) {
	f := parseKeyForm(r)
	f.Owner = ownerFor(pg, f.Owner)
	d, err := c.wizard(r, pg, f)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	if r.PostForm.Get("back") != "" {
		c.renderWizard(w, r, pg, http.StatusOK, "wizard_details", d)
		return
	}
	if d.Type == nil {
		pg.setError(latchkey.Errorf(latchkey.EINVALID, "choose a key type").WithDetail("field", "type"))
		c.renderWizard(w, r, pg, http.StatusUnprocessableEntity, "wizard_details", d)
		return
	}
	if len(d.Type.Scopes) > 0 && len(f.Scopes) == 0 && r.PostForm.Get("no_scopes") != "confirmed" {
		// A key without scopes passes verification and fails every
		// scope check: ask before making one, on the server, so the
		// question is asked without JavaScript too.
		d.ConfirmNoScopes = true
		c.renderWizard(w, r, pg, http.StatusUnprocessableEntity, "wizard_scopes", d)
		return
	}
	in, err := f.createInput(d.Type)
	if err == nil {
		k, secret, cerr := c.svc.CreateKey(r.Context(), pg.P, pg.WS.ID, in)
		if cerr == nil {
			c.showSecret(w, r, pg, k, secret, secretCreated, d.Cancel)
			return
		}
		err = cerr
	}
	if !isUserError(err) {
		c.fail(w, r, pg, err)
		return
	}
	pg.setError(err)
	step := "wizard_scopes"
	for field := range pg.Fields {
		if step1Fields[field] {
			step = "wizard_details"
		}
	}
	c.renderWizard(w, r, pg, http.StatusUnprocessableEntity, step, d)
}

func (c *Console) renderWizard(w http.ResponseWriter, r *http.Request, pg *page, status int, step string, d *wizardData) {
	pg.Title, pg.Nav, pg.Data = "Create an API key", "keys", d
	if d.Personal {
		pg.Nav = "profile"
	}
	if strings.HasSuffix(step, "scopes") {
		pg.Title = "Create an API key: scopes and settings"
	}
	c.render(w, r, status, step, pg)
}
