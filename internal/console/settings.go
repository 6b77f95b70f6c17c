package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// settingsService is what the settings page uses.
type settingsService interface {
	Settings(ctx context.Context, p latchkey.Principal, ws string) (*latchkey.Settings, error)
	UpdateSettings(ctx context.Context, p latchkey.Principal, ws string, in manage.SettingsPatch) (*latchkey.Settings, error)
	RevealWebhookSecret(ctx context.Context, p latchkey.Principal, ws string) (string, error)
	RotateWebhookSecret(ctx context.Context, p latchkey.Principal, ws string) (string, error)
}

// settingsForm is the workspace settings form as text fields, so a
// rejected value is shown back exactly as typed.
type settingsForm struct {
	Presets           string
	MaxLifetime       string
	AllowNeverExpire  bool
	NoticeBefore      string
	DeleteAfterExpiry string
	RevokedRetention  string
	PersonalKeys      bool
	ScimKeyIssuance   string
	// SeesWebhookSecret is true for owners and super admins, who are
	// offered to reveal the webhook signing secret; WebhookSecret holds it
	// only on the answer to that reveal, which the audit log records.
	SeesWebhookSecret bool
	WebhookSecret     string
}

func settingsFormOf(s *latchkey.Settings) settingsForm {
	notice := make([]string, len(s.Expiration.NoticeBefore))
	for i, d := range s.Expiration.NoticeBefore {
		notice[i] = d.String()
	}
	return settingsForm{
		Presets: strings.Join(s.Expiration.Presets, ", "), MaxLifetime: s.Expiration.MaxLifetime.String(),
		AllowNeverExpire: s.Expiration.AllowNeverExpire, NoticeBefore: strings.Join(notice, ", "),
		DeleteAfterExpiry: s.Expiration.DeleteAfterExpiry.String(), RevokedRetention: s.Expiration.RevokedRetention.String(),
		PersonalKeys: s.MembersMayCreatePersonalKeys, ScimKeyIssuance: s.ScimKeyIssuance,
	}
}

// settingsPage shows the workspace's policies: editable by owners and
// super admins, read-only for everyone else.
func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request, pg *page) {
	s, err := c.svc.Settings(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	f := settingsFormOf(s)
	f.SeesWebhookSecret = latchkey.Authorize(pg.P, latchkey.ActWebhookSecretRead, latchkey.Target{WorkspaceID: pg.WS.ID}) == nil
	pg.Flash = flash(r.URL.Query().Get("done"))
	pg.Title, pg.Nav, pg.Data = "Workspace settings", "settings", f
	c.render(w, r, http.StatusOK, "settings", pg)
}

// revealWebhookSecret shows the settings page with the webhook signing
// secret in clear, once; the service records who saw it. It is a POST so
// that no link, prefetch or history entry reveals it again.
func (c *Console) revealWebhookSecret(w http.ResponseWriter, r *http.Request, pg *page) {
	s, err := c.svc.Settings(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	f := settingsFormOf(s)
	f.SeesWebhookSecret = true
	if f.WebhookSecret, err = c.svc.RevealWebhookSecret(r.Context(), pg.P, pg.WS.ID); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	pg.Title, pg.Nav, pg.Data = "Workspace settings", "settings", f
	c.render(w, r, http.StatusOK, "settings", pg)
}

func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request, pg *page) {
	// Refuse before parsing, so a visitor who may not change settings
	// learns that rather than which field was malformed. The service
	// checks again.
	if err := latchkey.Authorize(pg.P, latchkey.ActSettingsWrite, latchkey.Target{WorkspaceID: pg.WS.ID}); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	_ = r.ParseForm()
	f := settingsForm{
		Presets: r.PostForm.Get("presets"), MaxLifetime: r.PostForm.Get("max_lifetime"),
		AllowNeverExpire: r.PostForm.Get("allow_never_expire") != "", NoticeBefore: r.PostForm.Get("notice_before"),
		DeleteAfterExpiry: r.PostForm.Get("delete_after_expiry"), RevokedRetention: r.PostForm.Get("revoked_retention"),
		PersonalKeys: r.PostForm.Get("members_may_create_personal_keys") != "", ScimKeyIssuance: r.PostForm.Get("scim_key_issuance"),
	}
	patch, err := f.patch()
	if err == nil {
		_, err = c.svc.UpdateSettings(r.Context(), pg.P, pg.WS.ID, patch)
	}
	if err != nil {
		if !isUserError(err) || latchkey.ErrorCode(err) == latchkey.EFORBIDDEN {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		pg.Title, pg.Nav, pg.Data = "Workspace settings", "settings", f
		c.render(w, r, http.StatusUnprocessableEntity, "settings", pg)
		return
	}
	redirect(w, r, pg.Base()+"/settings?done=settings")
}

// rotateWebhookSecret replaces the workspace's webhook signing secret.
func (c *Console) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, pg *page) {
	if _, err := c.svc.RotateWebhookSecret(r.Context(), pg.P, pg.WS.ID); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	redirect(w, r, pg.Base()+"/settings?done=webhook_secret")
}

// patch converts the form into the service's patch, naming the field of
// the first value that is not a duration.
func (f settingsForm) patch() (manage.SettingsPatch, error) {
	one := func(field, s string) (*latchkey.Duration, error) {
		d, err := latchkey.ParseDuration(s)
		if err != nil {
			return nil, err.(*latchkey.Error).WithDetail("field", field)
		}
		return &d, nil
	}
	list := func(s string) []string {
		out := []string{}
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	e := &manage.ExpirationPatch{AllowNeverExpire: &f.AllowNeverExpire}
	presets := list(f.Presets)
	e.Presets = &presets
	var err error
	if e.MaxLifetime, err = one("expiration.max_lifetime", f.MaxLifetime); err != nil {
		return manage.SettingsPatch{}, err
	}
	notice := []latchkey.Duration{}
	for _, s := range list(f.NoticeBefore) {
		d, err := one("expiration.notice_before", s)
		if err != nil {
			return manage.SettingsPatch{}, err
		}
		notice = append(notice, *d)
	}
	e.NoticeBefore = &notice
	if e.DeleteAfterExpiry, err = one("expiration.delete_after_expiry", f.DeleteAfterExpiry); err != nil {
		return manage.SettingsPatch{}, err
	}
	if e.RevokedRetention, err = one("expiration.revoked_retention", f.RevokedRetention); err != nil {
		return manage.SettingsPatch{}, err
	}
	p := manage.SettingsPatch{Expiration: e, MembersMayCreatePersonalKeys: &f.PersonalKeys}
	if f.ScimKeyIssuance != "" {
		p.ScimKeyIssuance = &f.ScimKeyIssuance
	}
	return p, nil
}
