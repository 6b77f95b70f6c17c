package console

import (
	"context"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// outboxService is what the outbox page uses.
type outboxService interface {
	Mails(ctx context.Context, p latchkey.Principal, ws string, limit int, cursor string) ([]*latchkey.Mail, string, error)
	WebhookDeliveries(ctx context.Context, p latchkey.Principal, ws string, limit int) ([]manage.WebhookDelivery, error)
}

// outboxData is a page of the workspace's mail.
type outboxData struct {
	Mails []*latchkey.Mail
	// Webhooks are the latest webhook deliveries, shown on the first page.
	Webhooks []manage.WebhookDelivery
	Next     string
	First    string
}

// outbox lists the mail latchkey sent about the workspace, newest first.
// Without SMTP this is where expiry notices can be read at all.
func (c *Console) outbox(w http.ResponseWriter, r *http.Request, pg *page) {
	cursor := r.URL.Query().Get("cursor")
	mails, next, err := c.svc.Mails(r.Context(), pg.P, pg.WS.ID, 50, cursor)
	if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
		c.fail(w, r, pg, err)
		return
	}
	if err != nil {
		pg.Error = latchkey.ErrorMessage(err)
	}
	d := outboxData{Mails: mails}
	if next != "" {
		d.Next = url.Values{"cursor": {next}}.Encode()
	}
	if cursor != "" {
		d.First = "cursor="
	} else if d.Webhooks, err = c.svc.WebhookDeliveries(r.Context(), pg.P, pg.WS.ID, 20); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	pg.Title, pg.Nav, pg.Data = "Outbox", "outbox", d
	c.render(w, r, http.StatusOK, "outbox", pg)
}
