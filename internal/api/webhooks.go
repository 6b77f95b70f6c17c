package api

import (
	"context"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// webhookService is what the webhook secret handlers use.
type webhookService interface {
	RevealWebhookSecretInfo(ctx context.Context, p latchkey.Principal, ws string) (*manage.WebhookSecretInfo, error)
	RotateWebhookSecretKeeping(ctx context.Context, p latchkey.Principal, ws string, overlap time.Duration) (*manage.WebhookSecretInfo, error)
}

// The workspace's webhook signing secret: read (each read is in the audit
// log as webhook_secret.revealed) and rotated by owners and super admins;
// no management key may, whatever its scopes.

func (a *API) getWebhookSecret(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	info, err := a.svc.RevealWebhookSecretInfo(r.Context(), p, ws)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, info)
}

type rotateWebhookSecret struct {
	// PreviousSecretValidFor is how long the replaced secret keeps
	// signing; omitted, a day; "0s" for a secret that leaked.
	PreviousSecretValidFor *latchkey.Duration `json:"previous_secret_valid_for"`
}

func (a *API) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in rotateWebhookSecret
	if err := decode(w, r, &in, true); err != nil {
		a.fail(w, r, err)
		return
	}
	overlap := time.Duration(manage.WebhookSecretOverlap)
	if in.PreviousSecretValidFor != nil {
		overlap = time.Duration(*in.PreviousSecretValidFor)
	}
	info, err := a.svc.RotateWebhookSecretKeeping(r.Context(), p, ws, overlap)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, info)
}
