package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// vaultService is what the vault pages and "Save in vault" use.
type vaultService interface {
	ListVaults(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.Vault, error)
	CreateVault(ctx context.Context, p latchkey.Principal, ws string, in manage.CreateVault) (*latchkey.Vault, error)
	Vault(ctx context.Context, p latchkey.Principal, ws, vaultID string) (*latchkey.Vault, []*latchkey.VaultSecret, error)
	CreateSecret(ctx context.Context, p latchkey.Principal, ws, vaultID string, in manage.CreateSecret) (*latchkey.VaultSecret, error)
	Secret(ctx context.Context, p latchkey.Principal, ws, vaultID, secretID string) (*latchkey.VaultSecret, error)
	RevealSecret(ctx context.Context, p latchkey.Principal, ws, vaultID, secretID, reason string) (string, error)
	SaveKeyToVault(ctx context.Context, p latchkey.Principal, ws, keyID, secret, vaultID string) (*latchkey.VaultSecret, error)
}

func (c *Console) registerVaults(mux forms) {
	mux.HandleFunc("GET /w/{ws}/vaults", c.inWorkspace(c.vaultList))
	mux.HandleFunc("POST /w/{ws}/vaults", c.inWorkspace(c.vaultCreate))
	mux.HandleFunc("GET /w/{ws}/vaults/{v}", c.inWorkspace(c.vaultPage))
	mux.HandleFunc("POST /w/{ws}/vaults/{v}/secrets", c.inWorkspace(c.secretCreate))
	mux.HandleFunc("GET /w/{ws}/vaults/{v}/secrets/{s}/reveal", c.inWorkspace(c.revealPage))
	mux.HandleFunc("POST /w/{ws}/vaults/{v}/secrets/{s}/reveal", c.inWorkspace(c.reveal))
	mux.HandleFunc("POST /w/{ws}/keys/{id}/save-to-vault", c.inWorkspace(c.saveKeyToVault))
}

// vaultsData is the Vaults page: the vaults the visitor may see, and the
// form to make one.
type vaultsData struct {
	Vaults []*latchkey.Vault
	Form   manage.CreateVault
	// Roles are the choices of who may reveal.
	Roles []latchkey.Role
}

func (c *Console) vaultList(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Flash = flash(r.URL.Query().Get("done"))
	c.renderVaults(w, r, pg, http.StatusOK, manage.CreateVault{})
}

func (c *Console) renderVaults(w http.ResponseWriter, r *http.Request, pg *page, status int, form manage.CreateVault) {
	vs, err := c.svc.ListVaults(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	pg.Title, pg.Nav = "Vaults", "vaults"
	pg.Data = vaultsData{Vaults: vs, Form: form, Roles: []latchkey.Role{latchkey.RoleOwner, latchkey.RoleSuperAdmin, latchkey.RoleAdmin, latchkey.RoleMember}}
	c.render(w, r, status, "vaults", pg)
}

func (c *Console) vaultCreate(w http.ResponseWriter, r *http.Request, pg *page) {
	in := manage.CreateVault{Name: r.PostFormValue("name"), Description: r.PostFormValue("description")}
	for _, role := range r.PostForm["reveal_roles"] {
		in.RevealRoles = append(in.RevealRoles, latchkey.Role(role))
	}
	v, err := c.svc.CreateVault(r.Context(), pg.P, pg.WS.ID, in)
	if err != nil {
		if !isUserError(err) {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		c.renderVaults(w, r, pg, http.StatusUnprocessableEntity, in)
		return
	}
	redirect(w, r, pg.Base()+"/vaults/"+url.PathEscape(v.ID)+"?done=vault")
}

// vaultData is one vault: its secrets' metadata and the form to add one.
type vaultData struct {
	Vault   *latchkey.Vault
	Secrets []*latchkey.VaultSecret
	Name    string
}

func (c *Console) vaultPage(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Flash = flash(r.URL.Query().Get("done"))
	c.renderVault(w, r, pg, http.StatusOK, "")
}

func (c *Console) renderVault(w http.ResponseWriter, r *http.Request, pg *page, status int, name string) {
	v, secrets, err := c.svc.Vault(r.Context(), pg.P, pg.WS.ID, r.PathValue("v"))
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	pg.Title, pg.Nav, pg.Data = v.Name, "vaults", vaultData{Vault: v, Secrets: secrets, Name: name}
	c.render(w, r, status, "vault", pg)
}

func (c *Console) secretCreate(w http.ResponseWriter, r *http.Request, pg *page) {
	in := manage.CreateSecret{Name: r.PostFormValue("name"), Value: r.PostFormValue("value")}
	_, err := c.svc.CreateSecret(r.Context(), pg.P, pg.WS.ID, r.PathValue("v"), in)
	if err != nil {
		if !isUserError(err) {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		// The value is never sent back, not even to the one who typed it.
		c.renderVault(w, r, pg, http.StatusUnprocessableEntity, in.Name)
		return
	}
	redirect(w, r, pg.Base()+"/vaults/"+url.PathEscape(r.PathValue("v"))+"?done=secret")
}

// revealData asks for a reason, then shows the value once.
type revealData struct {
	Vault  string
	Secret *latchkey.VaultSecret
	Reason string
	Value  string
}

func (c *Console) revealPage(w http.ResponseWriter, r *http.Request, pg *page) {
	c.renderReveal(w, r, pg, http.StatusOK, "", "")
}

func (c *Console) renderReveal(w http.ResponseWriter, r *http.Request, pg *page, status int, reason, value string) {
	sec, err := c.svc.Secret(r.Context(), pg.P, pg.WS.ID, r.PathValue("v"), r.PathValue("s"))
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	pg.Title, pg.Nav, pg.Data = "Reveal "+sec.Name, "vaults", revealData{Vault: r.PathValue("v"), Secret: sec, Reason: reason, Value: value}
	if value != "" {
		w.Header().Set("HX-Push-Url", "false")
	}
	c.render(w, r, status, "reveal", pg)
}

// reveal shows a secret's value, with the reason the visitor gave, which
// the audit log records with who, when and from where.
func (c *Console) reveal(w http.ResponseWriter, r *http.Request, pg *page) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	value, err := c.svc.RevealSecret(r.Context(), pg.P, pg.WS.ID, r.PathValue("v"), r.PathValue("s"), reason)
	if err != nil {
		if !isUserError(err) {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		c.renderReveal(w, r, pg, http.StatusUnprocessableEntity, reason, "")
		return
	}
	c.renderReveal(w, r, pg, http.StatusOK, reason, value)
}

// saveToVaultData is the confirmation of "Save in vault" on the page that
// shows a new secret once.
type saveToVaultData struct {
	Row    keyRow
	Secret string
	Vault  *latchkey.Vault
}

// saveKeyToVault is "Save in vault" on the secret's page: the browser
// sends the secret it shows back with the chosen vault; a first post asks
// to confirm, the second saves. The service checks the secret is the
// key's, so nothing but the key's own secret is kept under its name.
func (c *Console) saveKeyToVault(w http.ResponseWriter, r *http.Request, pg *page) {
	keyID, secret, vaultID := r.PathValue("id"), r.PostFormValue("secret"), r.PostFormValue("vault_id")
	k, err := c.svc.Key(r.Context(), pg.P, pg.WS.ID, keyID)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		v, _, err := c.svc.Vault(r.Context(), pg.P, pg.WS.ID, vaultID)
		if err != nil {
			c.fail(w, r, pg, err)
			return
		}
		w.Header().Set("HX-Push-Url", "false")
		row := c.row(k, pg, c.notice(r, pg), c.memberNames(r, pg))
		pg.Title, pg.Nav, pg.Data = "Save your API key in "+v.Name+"?", "keys", saveToVaultData{Row: row, Secret: secret, Vault: v}
		c.render(w, r, http.StatusOK, "save_to_vault", pg)
		return
	}
	if _, err := c.svc.SaveKeyToVault(r.Context(), pg.P, pg.WS.ID, keyID, secret, vaultID); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	redirect(w, r, pg.Base()+"/keys?done=in_vault&created="+url.QueryEscape(keyID))
}

// vaultChoices are the vaults a secret page offers to save into: none
// when vaults are off or the visitor may not write to any.
func (c *Console) vaultChoices(r *http.Request, pg *page) []*latchkey.Vault {
	if pg.WS == nil || !pg.Can(string(latchkey.ActVaultsWrite)) {
		return nil
	}
	vs, err := c.svc.ListVaults(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		return nil
	}
	return vs
}
