package console

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

// secretKind says why a secret is shown: a new key or a reset.
type secretKind int

const (
	secretCreated secretKind = iota
	secretReset
	secretIssued
)

// secretData is step 3 of the wizard, also shown after a reset and after
// an operator issues a SCIM key: the only page that ever holds a secret.
type secretData struct {
	Row    keyRow
	Secret string
	Kind   secretKind
	// Done is where the Done button leads.
	Done string
	// Reset and Issued say which heading and explanation to show.
	Reset, Issued bool
	// Created makes Done lead to the keys table with the new key
	// highlighted and a "Key created" notice.
	Created bool
	// Vaults the secret may be saved into ("Save in vault"); none after a
	// reset, whose secret replaces a kept one by itself.
	Vaults []*latchkey.Vault
}

// showSecret renders the secret of k this once. The page is marked
// no-store (as every console page is) and htmx is told not to keep it in
// its history cache, so Back does not bring the secret back.
func (c *Console) showSecret(w http.ResponseWriter, r *http.Request, pg *page, k *latchkey.Key, secret string, kind secretKind, done string) {
	var row keyRow
	if pg.WS != nil {
		row = c.row(k, pg, c.notice(r, pg), c.memberNames(r, pg))
	} else {
		row = keyRow{Key: k, Status: latchkey.StatusActive, TypeLabel: k.Type, OwnerLabel: "Workspace"}
	}
	pg.Title = "Store your API key"
	if pg.Nav == "" {
		// The secret's page belongs where the key will be listed.
		switch {
		case strings.HasSuffix(done, "/profile/keys"):
			pg.Nav = "profile"
		case strings.HasSuffix(done, "/scim"):
			pg.Nav = "scim"
		default:
			pg.Nav = "keys"
		}
	}
	if kind == secretReset {
		pg.Title = "Store your new secret"
	}
	d := secretData{Row: row, Secret: secret, Kind: kind, Done: done, Reset: kind == secretReset, Issued: kind == secretIssued, Created: kind == secretCreated}
	if kind == secretCreated {
		d.Vaults = c.vaultChoices(r, pg)
	}
	pg.Data = d
	// The secret is the answer to a POST; do not let htmx push a URL that
	// would reload a different page, nor cache this one.
	w.Header().Set("HX-Push-Url", "false")
	c.render(w, r, http.StatusOK, "secret", pg)
}
