package api

import (
	"context"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// vaultService is what the vault handlers use.
type vaultService interface {
	CreateVault(ctx context.Context, p latchkey.Principal, ws string, in manage.CreateVault) (*latchkey.Vault, error)
	ListVaults(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.Vault, error)
	Vault(ctx context.Context, p latchkey.Principal, ws, vaultID string) (*latchkey.Vault, []*latchkey.VaultSecret, error)
	DeleteVault(ctx context.Context, p latchkey.Principal, ws, vaultID string) error
	CreateSecret(ctx context.Context, p latchkey.Principal, ws, vaultID string, in manage.CreateSecret) (*latchkey.VaultSecret, error)
	Secret(ctx context.Context, p latchkey.Principal, ws, vaultID, secretID string) (*latchkey.VaultSecret, error)
	RevealSecret(ctx context.Context, p latchkey.Principal, ws, vaultID, secretID, reason string) (string, error)
	DeleteSecret(ctx context.Context, p latchkey.Principal, ws, vaultID, secretID string) error
	ResetKeyInto(ctx context.Context, p latchkey.Principal, ws, keyID string, grace time.Duration, save *manage.SaveToVault) (*latchkey.Key, string, error)
}

// vaultView is a vault with its secrets' metadata.
type vaultView struct {
	*latchkey.Vault
	Secrets []*latchkey.VaultSecret `json:"secrets"`
}

func (a *API) listVaults(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	vs, err := a.svc.ListVaults(r.Context(), p, ws)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[*latchkey.Vault]{Data: vs})
}

func (a *API) createVault(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in manage.CreateVault
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := a.svc.CreateVault(r.Context(), p, ws, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, vaultView{Vault: v, Secrets: []*latchkey.VaultSecret{}})
}

func (a *API) getVault(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	v, secrets, err := a.svc.Vault(r.Context(), p, ws, r.PathValue("v"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, vaultView{Vault: v, Secrets: secrets})
}

func (a *API) deleteVault(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	if err := a.svc.DeleteVault(r.Context(), p, ws, r.PathValue("v")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listSecrets(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	_, secrets, err := a.svc.Vault(r.Context(), p, ws, r.PathValue("v"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[*latchkey.VaultSecret]{Data: secrets})
}

func (a *API) createSecret(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in manage.CreateSecret
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	sec, err := a.svc.CreateSecret(r.Context(), p, ws, r.PathValue("v"), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, sec)
}

func (a *API) getSecret(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	sec, err := a.svc.Secret(r.Context(), p, ws, r.PathValue("v"), r.PathValue("s"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sec)
}

func (a *API) deleteSecret(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	if err := a.svc.DeleteSecret(r.Context(), p, ws, r.PathValue("v"), r.PathValue("s")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type revealRequest struct {
	Reason string `json:"reason"`
}

type revealed struct {
	Value string `json:"value"`
}

func (a *API) revealSecret(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in revealRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	value, err := a.svc.RevealSecret(r.Context(), p, ws, r.PathValue("v"), r.PathValue("s"), in.Reason)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, revealed{Value: value})
}
