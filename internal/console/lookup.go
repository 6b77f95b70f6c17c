package console

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// durationNotice is the workspace's expiry notice windows, which decide
// when a key shows as expiring (see latchkey.Key.NoticeWindow).
type durationNotice struct{ windows []latchkey.Duration }

// status is k's status at now under the windows.
func (n durationNotice) status(k *latchkey.Key, now time.Time) latchkey.Status {
	return k.Status(now, k.NoticeWindow(n.windows))
}

func (c *Console) notice(r *http.Request, pg *page) durationNotice {
	s, err := c.svc.Settings(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		return durationNotice{}
	}
	return durationNotice{s.Expiration.NoticeBefore}
}

// members lists the workspace's members when the visitor may read them,
// for owner names and the owner filter; nil otherwise.
func (c *Console) members(r *http.Request, pg *page) []*latchkey.Member {
	if !pg.Can(string(latchkey.ActMembersRead)) {
		return nil
	}
	ms, err := c.svc.Members(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		return nil
	}
	return ms
}

// memberNames maps user ids to emails, for showing owners.
func (c *Console) memberNames(r *http.Request, pg *page) map[string]string {
	out := map[string]string{}
	for _, m := range c.members(r, pg) {
		out[m.UserID] = m.Email
	}
	return out
}
