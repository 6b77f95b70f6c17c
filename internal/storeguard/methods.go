package storeguard

// One method per call of latchkey.Store, each under its deadline; the
// writes feed Ready.

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// Initialized calls the store's Initialized under the deadline.
func (st *Store) Initialized(ctx context.Context) (bool, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (bool, error) { return st.Store.Initialized(ctx) })
}

// CreateWorkspace calls the store's CreateWorkspace under the deadline.
func (st *Store) CreateWorkspace(ctx context.Context, ws *latchkey.Workspace, owner *latchkey.User, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateWorkspace(ctx, ws, owner, ev) })
}

// Workspace calls the store's Workspace under the deadline.
func (st *Store) Workspace(ctx context.Context, id string) (*latchkey.Workspace, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.Workspace, error) { return st.Store.Workspace(ctx, id) })
}

// Workspaces calls the store's Workspaces under the deadline.
func (st *Store) Workspaces(ctx context.Context) ([]*latchkey.Workspace, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.Workspace, error) { return st.Store.Workspaces(ctx) })
}

// UpdateSettings calls the store's UpdateSettings under the deadline.
func (st *Store) UpdateSettings(ctx context.Context, workspaceID string, fn func(*latchkey.Settings) (*latchkey.Event, error)) (*latchkey.Settings, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.Settings, error) {
		return st.Store.UpdateSettings(ctx, workspaceID, fn)
	})
}

// Member calls the store's Member under the deadline.
func (st *Store) Member(ctx context.Context, workspaceID, userID string) (*latchkey.Member, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.Member, error) { return st.Store.Member(ctx, workspaceID, userID) })
}

// Members calls the store's Members under the deadline.
func (st *Store) Members(ctx context.Context, workspaceID string) ([]*latchkey.Member, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.Member, error) { return st.Store.Members(ctx, workspaceID) })
}

// AddMember calls the store's AddMember under the deadline.
func (st *Store) AddMember(ctx context.Context, m *latchkey.Member, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.AddMember(ctx, m, ev) })
}

// InviteMember calls the store's InviteMember under the deadline.
func (st *Store) InviteMember(ctx context.Context, u *latchkey.User, m *latchkey.Member, inv *latchkey.Invite, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.InviteMember(ctx, u, m, inv, ev) })
}

// UpdateMember calls the store's UpdateMember under the deadline.
func (st *Store) UpdateMember(ctx context.Context, workspaceID, userID string, fn func(*latchkey.Member) (*latchkey.Event, error)) (*latchkey.Member, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.Member, error) {
		return st.Store.UpdateMember(ctx, workspaceID, userID, fn)
	})
}

// RemoveMember calls the store's RemoveMember under the deadline.
func (st *Store) RemoveMember(ctx context.Context, workspaceID, userID string, fn func(m *latchkey.Member, keys []*latchkey.Key) ([]latchkey.Event, error)) ([]*latchkey.Key, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) ([]*latchkey.Key, error) {
		return st.Store.RemoveMember(ctx, workspaceID, userID, fn)
	})
}

// CreateUser calls the store's CreateUser under the deadline.
func (st *Store) CreateUser(ctx context.Context, u *latchkey.User, ev *latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateUser(ctx, u, ev) })
}

// User calls the store's User under the deadline.
func (st *Store) User(ctx context.Context, id string) (*latchkey.User, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.User, error) { return st.Store.User(ctx, id) })
}

// UserByEmail calls the store's UserByEmail under the deadline.
func (st *Store) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.User, error) { return st.Store.UserByEmail(ctx, email) })
}

// Memberships calls the store's Memberships under the deadline.
func (st *Store) Memberships(ctx context.Context, userID string) ([]*latchkey.Member, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.Member, error) { return st.Store.Memberships(ctx, userID) })
}

// UpdateUser calls the store's UpdateUser under the deadline.
func (st *Store) UpdateUser(ctx context.Context, id string, fn func(*latchkey.User) error) (*latchkey.User, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.User, error) { return st.Store.UpdateUser(ctx, id, fn) })
}

// CreateInvite calls the store's CreateInvite under the deadline.
func (st *Store) CreateInvite(ctx context.Context, inv *latchkey.Invite) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateInvite(ctx, inv) })
}

// InviteOf calls the store's InviteOf under the deadline.
func (st *Store) InviteOf(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Invite, *latchkey.User, error) {
	type result struct {
		a *latchkey.Invite
		b *latchkey.User
	}
	r, err := guard(st, ctx, st.timeout, false, func(ctx context.Context) (result, error) {
		a, b, err := st.Store.InviteOf(ctx, hash, now)
		return result{a, b}, err
	})
	return r.a, r.b, err
}

// AcceptInvite calls the store's AcceptInvite under the deadline.
func (st *Store) AcceptInvite(ctx context.Context, hash [32]byte, now time.Time, c latchkey.InviteClaim) (*latchkey.User, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.User, error) { return st.Store.AcceptInvite(ctx, hash, now, c) })
}

// CreateKey calls the store's CreateKey under the deadline.
func (st *Store) CreateKey(ctx context.Context, k *latchkey.Key, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateKey(ctx, k, ev) })
}

// Key calls the store's Key under the deadline.
func (st *Store) Key(ctx context.Context, workspaceID, id string) (*latchkey.Key, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.Key, error) { return st.Store.Key(ctx, workspaceID, id) })
}

// Keys calls the store's Keys under the deadline.
func (st *Store) Keys(ctx context.Context, f latchkey.KeyFilter) ([]*latchkey.Key, string, error) {
	type result struct {
		a []*latchkey.Key
		b string
	}
	r, err := guard(st, ctx, st.timeout, false, func(ctx context.Context) (result, error) {
		a, b, err := st.Store.Keys(ctx, f)
		return result{a, b}, err
	})
	return r.a, r.b, err
}

// UpdateKey calls the store's UpdateKey under the deadline.
func (st *Store) UpdateKey(ctx context.Context, workspaceID, id string, fn func(*latchkey.Key) (*latchkey.Event, error)) (*latchkey.Key, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.Key, error) { return st.Store.UpdateKey(ctx, workspaceID, id, fn) })
}

// DeleteKey calls the store's DeleteKey under the deadline.
func (st *Store) DeleteKey(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.DeleteKey(ctx, workspaceID, id, ev) })
}

// CountKeys calls the store's CountKeys under the deadline.
func (st *Store) CountKeys(ctx context.Context, workspaceID, owner string) (int, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (int, error) { return st.Store.CountKeys(ctx, workspaceID, owner) })
}

// KeyByHash calls the store's KeyByHash under the deadline.
func (st *Store) KeyByHash(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	return guard(st, ctx, st.lookup, false, func(ctx context.Context) (*latchkey.Key, error) { return st.Store.KeyByHash(ctx, h) })
}

// KeyForVerify calls the store's KeyForVerify under the lookup deadline.
func (st *Store) KeyForVerify(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	return guard(st, ctx, st.lookup, false, func(ctx context.Context) (*latchkey.Key, error) { return st.Store.KeyForVerify(ctx, h) })
}

// LeaseBudget calls the store's LeaseBudget under the lookup deadline: a
// verification may be waiting on it.
func (st *Store) LeaseBudget(ctx context.Context, r latchkey.LeaseRequest) (latchkey.Lease, error) {
	return guard(st, ctx, st.lookup, true, func(ctx context.Context) (latchkey.Lease, error) { return st.Store.LeaseBudget(ctx, r) })
}

// KeyHashes calls the store's KeyHashes under the deadline.
func (st *Store) KeyHashes(ctx context.Context, after string, limit int) ([]latchkey.KeyHash, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.KeyHash, error) {
		return st.Store.KeyHashes(ctx, after, limit)
	})
}

// AppendEvent calls the store's AppendEvent under the deadline.
func (st *Store) AppendEvent(ctx context.Context, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.AppendEvent(ctx, ev) })
}

// Events calls the store's Events under the deadline.
func (st *Store) Events(ctx context.Context, f latchkey.EventFilter) ([]*latchkey.Event, string, error) {
	type result struct {
		a []*latchkey.Event
		b string
	}
	r, err := guard(st, ctx, st.timeout, false, func(ctx context.Context) (result, error) {
		a, b, err := st.Store.Events(ctx, f)
		return result{a, b}, err
	})
	return r.a, r.b, err
}

// ChainHead calls the store's ChainHead under the deadline.
func (st *Store) ChainHead(ctx context.Context, workspaceID string) (latchkey.ChainHead, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (latchkey.ChainHead, error) {
		return st.Store.ChainHead(ctx, workspaceID)
	})
}

// ChainHeads calls the store's ChainHeads under the deadline.
func (st *Store) ChainHeads(ctx context.Context) ([]latchkey.ChainHead, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.ChainHead, error) { return st.Store.ChainHeads(ctx) })
}

// EachEvent streams without a deadline: an export of a long log takes
// as long as its reader needs, and ends with the request.

// CreateSession calls the store's CreateSession under the deadline.
func (st *Store) CreateSession(ctx context.Context, s *latchkey.Session) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateSession(ctx, s) })
}

// Session calls the store's Session under the deadline.
func (st *Store) Session(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Session, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.Session, error) { return st.Store.Session(ctx, hash, now) })
}

// DeleteSession calls the store's DeleteSession under the deadline.
func (st *Store) DeleteSession(ctx context.Context, hash [32]byte) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.DeleteSession(ctx, hash) })
}

// DeleteUserSessions calls the store's DeleteUserSessions under the deadline.
func (st *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.DeleteUserSessions(ctx, userID) })
}

// AddUsage calls the store's AddUsage under the deadline.
func (st *Store) AddUsage(ctx context.Context, batch []latchkey.Usage) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.AddUsage(ctx, batch) })
}

// FoldUsage calls the store's FoldUsage under the deadline.
func (st *Store) FoldUsage(ctx context.Context, after string, limit int) (string, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (string, error) { return st.Store.FoldUsage(ctx, after, limit) })
}

// Usage calls the store's Usage under the deadline.
func (st *Store) Usage(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]latchkey.UsageDay, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.UsageDay, error) {
		return st.Store.Usage(ctx, workspaceID, keyID, from, to)
	})
}

// UsageTags calls the store's UsageTags under the deadline.
func (st *Store) UsageTags(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]latchkey.UsageTag, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.UsageTag, error) {
		return st.Store.UsageTags(ctx, workspaceID, keyID, from, to)
	})
}

// CreateScimKeyRequest calls the store's CreateScimKeyRequest under the deadline.
func (st *Store) CreateScimKeyRequest(ctx context.Context, r *latchkey.ScimKeyRequest, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateScimKeyRequest(ctx, r, ev) })
}

// ScimKeyRequest calls the store's ScimKeyRequest under the deadline.
func (st *Store) ScimKeyRequest(ctx context.Context, id string) (*latchkey.ScimKeyRequest, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.ScimKeyRequest, error) { return st.Store.ScimKeyRequest(ctx, id) })
}

// ScimKeyRequests calls the store's ScimKeyRequests under the deadline.
func (st *Store) ScimKeyRequests(ctx context.Context, workspaceID string, open bool) ([]*latchkey.ScimKeyRequest, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.ScimKeyRequest, error) {
		return st.Store.ScimKeyRequests(ctx, workspaceID, open)
	})
}

// ApproveScimKeyRequest calls the store's ApproveScimKeyRequest under the deadline.
func (st *Store) ApproveScimKeyRequest(ctx context.Context, requestID, approvedBy string, at time.Time, ev latchkey.Event) (*latchkey.ScimKeyRequest, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.ScimKeyRequest, error) {
		return st.Store.ApproveScimKeyRequest(ctx, requestID, approvedBy, at, ev)
	})
}

// IssueScimKey calls the store's IssueScimKey under the deadline.
func (st *Store) IssueScimKey(ctx context.Context, requestID string, k *latchkey.Key, issuedBy string, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.IssueScimKey(ctx, requestID, k, issuedBy, ev) })
}

// ScimUser calls the store's ScimUser under the deadline.
func (st *Store) ScimUser(ctx context.Context, workspaceID, userID string) (*latchkey.ScimUser, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.ScimUser, error) {
		return st.Store.ScimUser(ctx, workspaceID, userID)
	})
}

// ScimUsers calls the store's ScimUsers under the deadline.
func (st *Store) ScimUsers(ctx context.Context, q latchkey.ScimQuery) ([]*latchkey.ScimUser, int, error) {
	type result struct {
		a []*latchkey.ScimUser
		b int
	}
	r, err := guard(st, ctx, st.timeout, false, func(ctx context.Context) (result, error) {
		a, b, err := st.Store.ScimUsers(ctx, q)
		return result{a, b}, err
	})
	return r.a, r.b, err
}

// CreateScimUser calls the store's CreateScimUser under the deadline.
func (st *Store) CreateScimUser(ctx context.Context, u *latchkey.ScimUser, newUser *latchkey.User, fn func(prev *latchkey.Member) ([]latchkey.Event, error)) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateScimUser(ctx, u, newUser, fn) })
}

// UpdateScimUser calls the store's UpdateScimUser under the deadline.
func (st *Store) UpdateScimUser(ctx context.Context, workspaceID, userID string, fn func(u *latchkey.ScimUser) ([]latchkey.Event, error)) (*latchkey.ScimUser, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.ScimUser, error) {
		return st.Store.UpdateScimUser(ctx, workspaceID, userID, fn)
	})
}

// ScimExtensionAttrs calls the store's ScimExtensionAttrs under the deadline.
func (st *Store) ScimExtensionAttrs(ctx context.Context, workspaceID string) ([]latchkey.ScimExtensionAttr, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.ScimExtensionAttr, error) {
		return st.Store.ScimExtensionAttrs(ctx, workspaceID)
	})
}

// ScimGroup calls the store's ScimGroup under the deadline.
func (st *Store) ScimGroup(ctx context.Context, workspaceID, id string) (*latchkey.ScimGroup, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.ScimGroup, error) {
		return st.Store.ScimGroup(ctx, workspaceID, id)
	})
}

// ScimGroups calls the store's ScimGroups under the deadline.
func (st *Store) ScimGroups(ctx context.Context, q latchkey.ScimQuery) ([]*latchkey.ScimGroup, int, error) {
	type result struct {
		a []*latchkey.ScimGroup
		b int
	}
	r, err := guard(st, ctx, st.timeout, false, func(ctx context.Context) (result, error) {
		a, b, err := st.Store.ScimGroups(ctx, q)
		return result{a, b}, err
	})
	return r.a, r.b, err
}

// CreateScimGroup calls the store's CreateScimGroup under the deadline.
func (st *Store) CreateScimGroup(ctx context.Context, g *latchkey.ScimGroup, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, false, func(ctx context.Context) error { return st.Store.CreateScimGroup(ctx, g, ev) })
}

// UpdateScimGroup calls the store's UpdateScimGroup under the deadline.
func (st *Store) UpdateScimGroup(ctx context.Context, workspaceID, id string, fn func(g *latchkey.ScimGroup) (*latchkey.Event, error)) (*latchkey.ScimGroup, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.ScimGroup, error) {
		return st.Store.UpdateScimGroup(ctx, workspaceID, id, fn)
	})
}

// DeleteScimGroup calls the store's DeleteScimGroup under the deadline.
func (st *Store) DeleteScimGroup(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, false, func(ctx context.Context) error { return st.Store.DeleteScimGroup(ctx, workspaceID, id, ev) })
}

// ExpiringKeys calls the store's ExpiringKeys under the deadline.
func (st *Store) ExpiringKeys(ctx context.Context, workspaceID string, now time.Time, window latchkey.Duration, limit int) ([]*latchkey.Key, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.Key, error) {
		return st.Store.ExpiringKeys(ctx, workspaceID, now, window, limit)
	})
}

// ExpiredKeys calls the store's ExpiredKeys under the deadline.
func (st *Store) ExpiredKeys(ctx context.Context, workspaceID string, now time.Time, limit int) ([]*latchkey.Key, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.Key, error) {
		return st.Store.ExpiredKeys(ctx, workspaceID, now, limit)
	})
}

// RecordNotice calls the store's RecordNotice under the deadline.
func (st *Store) RecordNotice(ctx context.Context, n latchkey.Notice, mails []*latchkey.Mail, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.RecordNotice(ctx, n, mails, ev) })
}

// RecordNotices calls the store's RecordNotices under the deadline.
func (st *Store) RecordNotices(ctx context.Context, notices []latchkey.Notice, event func(latchkey.Notice) latchkey.Event, mails func(recorded []latchkey.Notice) []*latchkey.Mail) ([]latchkey.Notice, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) ([]latchkey.Notice, error) {
		return st.Store.RecordNotices(ctx, notices, event, mails)
	})
}

// DeleteExpiredKeys calls the store's DeleteExpiredKeys under the deadline.
func (st *Store) DeleteExpiredKeys(ctx context.Context, workspaceID string, expiredBefore, revokedBefore time.Time, limit int, event func(*latchkey.Key) latchkey.Event) ([]*latchkey.Key, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) ([]*latchkey.Key, error) {
		return st.Store.DeleteExpiredKeys(ctx, workspaceID, expiredBefore, revokedBefore, limit, event)
	})
}

// Mails calls the store's Mails under the deadline.
func (st *Store) Mails(ctx context.Context, workspaceID string, limit int, cursor string) ([]*latchkey.Mail, string, error) {
	type result struct {
		a []*latchkey.Mail
		b string
	}
	r, err := guard(st, ctx, st.timeout, false, func(ctx context.Context) (result, error) {
		a, b, err := st.Store.Mails(ctx, workspaceID, limit, cursor)
		return result{a, b}, err
	})
	return r.a, r.b, err
}

// ClaimMails calls the store's ClaimMails under the deadline.
func (st *Store) ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.Mail, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) ([]*latchkey.Mail, error) {
		return st.Store.ClaimMails(ctx, now, lease, limit)
	})
}

// MarkMailSent calls the store's MarkMailSent under the deadline.
func (st *Store) MarkMailSent(ctx context.Context, id string, at time.Time) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.MarkMailSent(ctx, id, at) })
}

// MarkMailFailed calls the store's MarkMailFailed under the deadline.
func (st *Store) MarkMailFailed(ctx context.Context, id string, errMsg string, retryAt *time.Time) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.MarkMailFailed(ctx, id, errMsg, retryAt) })
}

// ReleaseMail calls the store's ReleaseMail under the deadline.
func (st *Store) ReleaseMail(ctx context.Context, id string, claimedUntil, now time.Time) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.ReleaseMail(ctx, id, claimedUntil, now) })
}

// WebhookDeliveries calls the store's WebhookDeliveries under the deadline.
func (st *Store) WebhookDeliveries(ctx context.Context, workspaceID string, limit int, cursor string) ([]*latchkey.WebhookDelivery, string, error) {
	type result struct {
		a []*latchkey.WebhookDelivery
		b string
	}
	r, err := guard(st, ctx, st.timeout, false, func(ctx context.Context) (result, error) {
		a, b, err := st.Store.WebhookDeliveries(ctx, workspaceID, limit, cursor)
		return result{a, b}, err
	})
	return r.a, r.b, err
}

// WebhookAttempts calls the store's WebhookAttempts under the deadline.
func (st *Store) WebhookAttempts(ctx context.Context, deliveryID string) ([]*latchkey.WebhookAttempt, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.WebhookAttempt, error) {
		return st.Store.WebhookAttempts(ctx, deliveryID)
	})
}

// ClaimWebhooks calls the store's ClaimWebhooks under the deadline.
func (st *Store) ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.WebhookDelivery, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) ([]*latchkey.WebhookDelivery, error) {
		return st.Store.ClaimWebhooks(ctx, now, lease, limit)
	})
}

// RecordWebhookAttempt calls the store's RecordWebhookAttempt under the deadline.
func (st *Store) RecordWebhookAttempt(ctx context.Context, a latchkey.WebhookAttempt, delivered bool, retryAt *time.Time) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.RecordWebhookAttempt(ctx, a, delivered, retryAt) })
}

// WebhookSecret calls the store's WebhookSecret under the deadline.
func (st *Store) WebhookSecret(ctx context.Context, workspaceID, fresh string) (string, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (string, error) { return st.Store.WebhookSecret(ctx, workspaceID, fresh) })
}

// SetWebhookSecret calls the store's SetWebhookSecret under the deadline.
func (st *Store) SetWebhookSecret(ctx context.Context, workspaceID, secret string, keepPreviousUntil time.Time, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error {
		return st.Store.SetWebhookSecret(ctx, workspaceID, secret, keepPreviousUntil, ev)
	})
}

// WebhookSecrets calls the store's WebhookSecrets under the deadline.
func (st *Store) WebhookSecrets(ctx context.Context, workspaceID, fresh string) (*latchkey.WebhookSecrets, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.WebhookSecrets, error) {
		return st.Store.WebhookSecrets(ctx, workspaceID, fresh)
	})
}

// ReleaseWebhook calls the store's ReleaseWebhook under the deadline.
func (st *Store) ReleaseWebhook(ctx context.Context, id string, claimedUntil, now time.Time) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.ReleaseWebhook(ctx, id, claimedUntil, now) })
}

// CreateVault calls the store's CreateVault under the deadline.
func (st *Store) CreateVault(ctx context.Context, v *latchkey.Vault, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateVault(ctx, v, ev) })
}

// Vault calls the store's Vault under the deadline.
func (st *Store) Vault(ctx context.Context, workspaceID, id string) (*latchkey.Vault, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.Vault, error) { return st.Store.Vault(ctx, workspaceID, id) })
}

// Vaults calls the store's Vaults under the deadline.
func (st *Store) Vaults(ctx context.Context, workspaceID string) ([]*latchkey.Vault, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.Vault, error) { return st.Store.Vaults(ctx, workspaceID) })
}

// DeleteVault calls the store's DeleteVault under the deadline.
func (st *Store) DeleteVault(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.DeleteVault(ctx, workspaceID, id, ev) })
}

// CreateSecret calls the store's CreateSecret under the deadline.
func (st *Store) CreateSecret(ctx context.Context, sec *latchkey.VaultSecret, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateSecret(ctx, sec, ev) })
}

// VaultSecret calls the store's VaultSecret under the deadline.
func (st *Store) VaultSecret(ctx context.Context, workspaceID, vaultID, id string) (*latchkey.VaultSecret, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.VaultSecret, error) {
		return st.Store.VaultSecret(ctx, workspaceID, vaultID, id)
	})
}

// VaultSecrets calls the store's VaultSecrets under the deadline.
func (st *Store) VaultSecrets(ctx context.Context, workspaceID, vaultID string) ([]*latchkey.VaultSecret, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.VaultSecret, error) {
		return st.Store.VaultSecrets(ctx, workspaceID, vaultID)
	})
}

// KeySecret calls the store's KeySecret under the deadline.
func (st *Store) KeySecret(ctx context.Context, workspaceID, keyID string) (*latchkey.VaultSecret, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.VaultSecret, error) {
		return st.Store.KeySecret(ctx, workspaceID, keyID)
	})
}

// ReplaceSecret calls the store's ReplaceSecret under the deadline.
func (st *Store) ReplaceSecret(ctx context.Context, workspaceID, id string, sealed latchkey.Sealed, at time.Time, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error {
		return st.Store.ReplaceSecret(ctx, workspaceID, id, sealed, at, ev)
	})
}

// DeleteSecret calls the store's DeleteSecret under the deadline.
func (st *Store) DeleteSecret(ctx context.Context, workspaceID, vaultID, id string, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error {
		return st.Store.DeleteSecret(ctx, workspaceID, vaultID, id, ev)
	})
}

// SecretsNotWrappedBy calls the store's SecretsNotWrappedBy under the deadline.
func (st *Store) SecretsNotWrappedBy(ctx context.Context, keeperID string, limit int) ([]latchkey.SealedRef, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.SealedRef, error) {
		return st.Store.SecretsNotWrappedBy(ctx, keeperID, limit)
	})
}

// RewrapSecret calls the store's RewrapSecret under the deadline.
func (st *Store) RewrapSecret(ctx context.Context, id string, prev, next latchkey.Sealed) (bool, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (bool, error) {
		return st.Store.RewrapSecret(ctx, id, prev, next)
	})
}

// VaultKeepers calls the store's VaultKeepers under the deadline.
func (st *Store) VaultKeepers(ctx context.Context) ([]latchkey.VaultKeeper, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.VaultKeeper, error) { return st.Store.VaultKeepers(ctx) })
}

// ActivateVaultKeeper calls the store's ActivateVaultKeeper under the deadline.
func (st *Store) ActivateVaultKeeper(ctx context.Context, k latchkey.VaultKeeper) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.ActivateVaultKeeper(ctx, k) })
}

// RecordLeak calls the store's RecordLeak under the deadline.
func (st *Store) RecordLeak(ctx context.Context, l latchkey.Leak, revokedBy string, events func(*latchkey.Key) []latchkey.Event, mails func(*latchkey.Key) []*latchkey.Mail) (*latchkey.Key, bool, error) {
	type result struct {
		k        *latchkey.Key
		recorded bool
	}
	r, err := guard(st, ctx, st.timeout, true, func(ctx context.Context) (result, error) {
		k, recorded, err := st.Store.RecordLeak(ctx, l, revokedBy, events, mails)
		return result{k, recorded}, err
	})
	return r.k, r.recorded, err
}

// Leaks calls the store's Leaks under the deadline.
func (st *Store) Leaks(ctx context.Context, workspaceID, keyID string) ([]*latchkey.Leak, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.Leak, error) {
		return st.Store.Leaks(ctx, workspaceID, keyID)
	})
}
