package console

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// keyService is what the key pages use.
type keyService interface {
	Catalog() *latchkey.Catalog
	Now() time.Time
	ListKeys(ctx context.Context, p latchkey.Principal, ws string, f latchkey.KeyFilter) ([]*latchkey.Key, string, error)
	Key(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error)
	CreateKey(ctx context.Context, p latchkey.Principal, ws string, in manage.CreateKey) (*latchkey.Key, string, error)
	UpdateKey(ctx context.Context, p latchkey.Principal, ws, keyID string, in manage.UpdateKey) (*latchkey.Key, error)
	RevokeKey(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error)
	ResetKey(ctx context.Context, p latchkey.Principal, ws, keyID string, grace time.Duration) (*latchkey.Key, string, error)
	DeleteKey(ctx context.Context, p latchkey.Principal, ws, keyID string) error
	KeyUsage(ctx context.Context, p latchkey.Principal, ws, keyID string, from, to time.Time) ([]latchkey.UsageDay, error)
}

// pageSize is how many keys a table shows at once.
const pageSize = 25

// keyRow is one key as a table or the key page shows it.
type keyRow struct {
	*latchkey.Key
	Status     latchkey.Status
	TypeLabel  string
	OwnerLabel string
	// ExpiresIn says when the key expires as people say it: "in 29
	// days", "2 hours ago"; "" without an expiry.
	ExpiresIn string
}

// keyListData is the keys table with its filters.
type keyListData struct {
	Rows     []keyRow
	Filter   url.Values
	Types    []latchkey.KeyType
	Owners   []ownerOption
	Next     string // the next page's query string, "" on the last page
	First    string // the first page's query string, "" on the first page
	Personal bool   // the profile's "my keys" table
	NewURL   string
	Filtered bool
	// Created is the key the wizard just made, highlighted in the table.
	Created string
}

// ownerOption is a choice of the owner filter.
type ownerOption struct{ Value, Label string }

// keyList is the API keys table of the workspace: every key for admins, a
// member's own keys for members.
func (c *Console) keyList(w http.ResponseWriter, r *http.Request, pg *page) {
	c.renderKeyTable(w, r, pg, false)
}

// profileKeys is Profile settings → API keys: the visitor's personal keys.
func (c *Console) profileKeys(w http.ResponseWriter, r *http.Request, pg *page) {
	c.renderKeyTable(w, r, pg, true)
}

func (c *Console) renderKeyTable(w http.ResponseWriter, r *http.Request, pg *page, personal bool) {
	q := r.URL.Query()
	f := latchkey.KeyFilter{
		Status: latchkey.Status(q.Get("status")), Type: q.Get("type"),
		Environment: latchkey.Environment(q.Get("environment")), Owner: q.Get("owner"),
		Query: q.Get("q"), Limit: pageSize, Cursor: q.Get("cursor"),
	}
	if personal {
		f.Owner = "me"
	}
	keys, next, err := c.svc.ListKeys(r.Context(), pg.P, pg.WS.ID, f)
	if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
		c.fail(w, r, pg, err)
		return
	}
	if err != nil {
		pg.Error = latchkey.ErrorMessage(err)
	}
	data := keyListData{Filter: q, Types: c.svc.Catalog().Types, Personal: personal}
	for _, k := range []string{"status", "type", "environment", "owner", "q"} {
		if q.Get(k) != "" {
			data.Filtered = true
		}
	}
	notice := c.notice(r, pg)
	names := c.memberNames(r, pg)
	for _, k := range keys {
		data.Rows = append(data.Rows, c.row(k, pg, notice, names))
	}
	if next != "" {
		nq := cloneValues(q)
		nq.Set("cursor", next)
		data.Next = nq.Encode()
	}
	if q.Get("cursor") != "" {
		fq := cloneValues(q)
		fq.Del("cursor")
		data.First = fq.Encode()
	}
	data.Owners = []ownerOption{{"", "Any owner"}, {latchkey.OwnerWorkspace, "Workspace"}, {"me", "Me"}}
	for _, m := range c.members(r, pg) {
		if m.UserID != pg.P.UserID {
			data.Owners = append(data.Owners, ownerOption{m.UserID, m.Email})
		}
	}
	pg.Title, pg.Nav = "API keys", "keys"
	data.NewURL = pg.Base() + "/keys/new"
	if personal {
		pg.Title, pg.Nav = "Profile settings", "profile"
		data.NewURL += "?owner=me"
	}
	pg.Flash = flash(q.Get("done"))
	if pg.Flash != "" {
		data.Created = q.Get("created")
	}
	pg.Data = data
	c.render(w, r, http.StatusOK, "keys", pg)
}

// row derives what a table shows of k.
func (c *Console) row(k *latchkey.Key, pg *page, notice durationNotice, names map[string]string) keyRow {
	row := keyRow{Key: k, Status: notice.status(k, c.svc.Now()), TypeLabel: k.Type}
	if t, ok := c.svc.Catalog().Type(k.Type); ok {
		row.TypeLabel = t.Label
	}
	if k.ExpiresAt != nil {
		if left := k.ExpiresAt.Sub(c.svc.Now()); left > 0 {
			row.ExpiresIn = "in " + latchkey.Spell(left)
		} else {
			row.ExpiresIn = latchkey.Spell(left) + " ago"
		}
	}
	switch {
	case k.Owner == latchkey.OwnerWorkspace:
		row.OwnerLabel = "Workspace"
	case k.Owner == pg.P.UserID:
		row.OwnerLabel = "You"
	case names[k.Owner] != "":
		row.OwnerLabel = names[k.Owner]
	default:
		row.OwnerLabel = "A member"
	}
	return row
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// flash is the confirmation shown after a redirect; only known codes are
// shown, so a link cannot put words in the console's mouth.
func flash(code string) string {
	return map[string]string{
		"created":        "Key created. Its row is highlighted below.",
		"password":       "Your password was changed. Your other sessions have ended.",
		"saved":          "Your changes were saved.",
		"revoked":        "The key was revoked. It no longer works anywhere.",
		"deleted":        "The key was deleted.",
		"settings":       "The workspace settings were saved.",
		"webhook_secret": "The webhook signing secret was rotated. Webhooks are signed with the new one from now on.",
		"member":         "The member was updated.",
		"added":          "The member was added.",
		"removed":        "The member was removed.",
		"request":        "Your request was sent to the support team.",
		"ws":             "The workspace was created.",
		"vault":          "The vault was created.",
		"secret":         "The secret was saved in the vault.",
		"in_vault":       "The key was created and its secret saved in the vault.",
	}[code]
}
