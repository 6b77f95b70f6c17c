package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// keyForm is the create wizard's state. Steps 1 and 2 carry it in form
// fields (hidden on the step that does not edit them), so the server keeps
// no draft between steps.
type keyForm struct {
	Name        string
	Description string
	Type        string
	Environment string
	// Expires is a preset ("30d"), "custom" or "never"; ExpiresAt is the
	// custom date as an <input type=datetime-local> writes it, in UTC.
	Expires     string
	ExpiresAt   string
	CallbackURL string
	// Owner is "workspace" or "me".
	Owner    string
	Scopes   []string
	Settings map[string]string
	// AllowedIPs is the key page's allowlist field, one network a line
	// (or separated by commas); HasAllowedIPs tells a posted empty field
	// (remove the allowlist) from a form without it (leave it).
	AllowedIPs    string
	HasAllowedIPs bool
	// Rate is the per-key rate limit as typed; HasRate tells a posted
	// empty limit (remove it) from a form without the field (leave it).
	Rate    rateLimitField
	HasRate bool
	// Budget is the usage-based section (credits and named limits);
	// HasBudget tells a form with it from one without.
	Budget    budgetField
	HasBudget bool
}

// customLayout is how <input type="datetime-local"> writes a time.
const customLayout = "2006-01-02T15:04"

// parseKeyForm reads the wizard's fields from a posted form.
func parseKeyForm(r *http.Request) keyForm {
	_ = r.ParseForm()
	f := keyForm{
		Name: r.PostForm.Get("name"), Description: strings.ReplaceAll(r.PostForm.Get("description"), "\r\n", "\n"),
		Type: r.PostForm.Get("type"), Environment: r.PostForm.Get("environment"),
		Expires: r.PostForm.Get("expires"), ExpiresAt: r.PostForm.Get("expires_at"),
		CallbackURL: strings.TrimSpace(r.PostForm.Get("callback_url")), Owner: r.PostForm.Get("owner"),
		Scopes: postedScopes(r.PostForm), Settings: map[string]string{},
	}
	if v, ok := r.PostForm["rate_limit"]; ok && len(v) > 0 {
		f.Rate, f.HasRate = rateLimitField{Limit: v[len(v)-1], Period: r.PostForm.Get("rate_period")}, true
	}
	f.Budget, f.HasBudget = parseBudgetField(r.PostForm)
	if v, ok := r.PostForm["allowed_ips"]; ok && len(v) > 0 {
		f.AllowedIPs, f.HasAllowedIPs = v[len(v)-1], true
	}
	for k, v := range r.PostForm {
		if name, ok := strings.CutPrefix(k, "setting."); ok && len(v) > 0 {
			f.Settings[name] = v[len(v)-1]
		}
	}
	return f
}

// expiry turns the expiration choice into the service's expires_in or
// expires_at.
func (f keyForm) expiry() (string, *time.Time, error) {
	switch f.Expires {
	case "custom":
		t, err := time.ParseInLocation(customLayout, f.ExpiresAt, time.UTC)
		if err != nil {
			if t, err = time.ParseInLocation("2006-01-02", f.ExpiresAt, time.UTC); err != nil {
				return "", nil, latchkey.Errorf(latchkey.EINVALID, "choose the date and time the key expires").WithDetail("field", "expires_at")
			}
		}
		return "", &t, nil
	case "":
		return "", nil, nil
	}
	return f.Expires, nil, nil
}

// settings converts the posted type settings to their kinds: a checkbox
// that is absent means false, an empty text field means "leave as is".
func (f keyForm) settings(t *latchkey.KeyType) map[string]any {
	out := map[string]any{}
	for _, s := range t.Settings {
		v, ok := f.Settings[s.Name]
		switch s.Kind {
		case "bool":
			out[s.Name] = ok && (v == "true" || v == "on")
		default:
			if v != "" {
				out[s.Name] = v
			}
		}
	}
	return out
}

// createInput is the service call the completed wizard makes.
func (f keyForm) createInput(t *latchkey.KeyType) (manage.CreateKey, error) {
	in, at, err := f.expiry()
	if err != nil {
		return manage.CreateKey{}, err
	}
	scopes := f.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	rate, err := f.Rate.parse()
	if err != nil {
		return manage.CreateKey{}, err
	}
	var credits *latchkey.CreditsInput
	var limits []latchkey.NamedLimit
	if f.HasBudget {
		if credits, err = f.Budget.credits(); err != nil {
			return manage.CreateKey{}, err
		}
		if limits, err = f.Budget.limits(); err != nil {
			return manage.CreateKey{}, err
		}
	}
	return manage.CreateKey{RateLimit: rate, Credits: credits, RateLimits: limits,
		Name: f.Name, Description: f.Description, Type: f.Type,
		Environment: latchkey.Environment(f.Environment), Owner: f.Owner, Scopes: scopes,
		Settings: f.settings(t), ExpiresIn: in, ExpiresAt: at, CallbackURL: f.CallbackURL,
	}, nil
}

// step1Fields are the fields the first step edits; an error about one of
// them sends the visitor back there.
var step1Fields = map[string]bool{
	"name": true, "description": true, "type": true, "environment": true, "owner": true,
	"expires_in": true, "expires_at": true, "callback_url": true,
}

// wizardData is what the wizard's steps render.
type wizardData struct {
	Form     keyForm
	Types    []*latchkey.KeyType
	Type     *latchkey.KeyType
	Presets  []string
	Never    bool
	Personal bool
	Cancel   string
	// ConfirmNoScopes asks whether to create the key without scopes.
	ConfirmNoScopes bool
}

// creatableTypes lists the key types the visitor may create for owner
// under the workspace's policy (SCIM keys only where admins issue them,
// personal keys only of personal types).
func creatableTypes(p latchkey.Principal, s *latchkey.Settings, c *latchkey.Catalog, owner string) []*latchkey.KeyType {
	var out []*latchkey.KeyType
	for i := range c.Types {
		t := &c.Types[i]
		if latchkey.AuthorizeKeyCreate(p, *s, t, owner) == nil {
			out = append(out, t)
		}
	}
	return out
}

// allowedIPs splits the allowlist field into its entries.
func (f keyForm) allowedIPs() []string {
	return strings.FieldsFunc(f.AllowedIPs, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}
