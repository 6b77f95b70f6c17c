package manage

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/token"
)

// CreateKey is the input of a key creation.
type CreateKey struct {
	Name        string               `json:"name"`
	Description string               `json:"description"`
	Type        string               `json:"type"`
	Environment latchkey.Environment `json:"environment"`
	// Owner is "workspace", "me", or empty: the workspace for admins and
	// the caller for members.
	Owner       string              `json:"owner"`
	Scopes      []string            `json:"scopes"`
	Settings    map[string]any      `json:"settings"`
	ExpiresIn   string              `json:"expires_in"`
	ExpiresAt   *time.Time          `json:"expires_at"`
	CallbackURL string              `json:"callback_url"`
	RateLimit   *latchkey.RateLimit `json:"rate_limit"`
	// AllowedIPs binds the key to networks (CIDRs or addresses).
	AllowedIPs  []string     `json:"allowed_ips"`
	SaveToVault *SaveToVault `json:"save_to_vault"`
	// ExternalID and Meta are the product's: its customer's id and a JSON
	// object, both returned by verification.
	ExternalID string          `json:"external_id"`
	Meta       json.RawMessage `json:"meta"`
	// Credits make every verification spend from a balance (absent:
	// unlimited); RateLimits are limits held across every instance.
	Credits    *latchkey.CreditsInput `json:"credits"`
	RateLimits []latchkey.NamedLimit  `json:"ratelimits"`
}

// CreateKey creates a key in ws and returns it with its secret, which is
// never available again.
func (s *Service) CreateKey(ctx context.Context, p latchkey.Principal, ws string, in CreateKey) (*latchkey.Key, string, error) {
	w, err := s.workspace(ctx, p, ws, latchkey.ActKeyCreate)
	if err != nil {
		return nil, "", err
	}
	if in.Type == "" {
		in.Type = latchkey.TypePublicAPI
	}
	kt, ok := s.catalog.Type(in.Type)
	if !ok {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "unknown key type %q", in.Type).WithDetail("field", "type")
	}
	if in.Environment == "" {
		in.Environment = latchkey.Production
	}
	if !in.Environment.Valid() {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, `environment must be "production" or "demo"`).WithDetail("field", "environment")
	}
	owner, err := resolveOwner(p, in.Owner)
	if err != nil {
		return nil, "", err
	}
	// The type-level rules first (who may make this type for this owner),
	// so that a forbidden key is refused before its input is judged.
	if err := latchkey.AuthorizeKeyCreate(p, w.Settings, kt, owner); err != nil {
		return nil, "", err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := firstError(
		latchkey.ValidateKeyName(in.Name),
		latchkey.ValidateDescription(in.Description),
		latchkey.ValidateCallbackURL(in.CallbackURL),
		latchkey.ValidateRateLimit(in.RateLimit),
		latchkey.ValidateKeyExternalID(in.ExternalID),
		latchkey.ValidateRateLimits(in.RateLimits),
	); err != nil {
		return nil, "", err
	}
	meta, err := latchkey.ParseMeta(in.Meta)
	if err != nil {
		return nil, "", err
	}
	var saveTo *latchkey.Vault
	var sealer Sealer
	allowed, err := latchkey.ParseAllowedIPs(in.AllowedIPs)
	if err != nil {
		return nil, "", err
	}
	if in.SaveToVault != nil {
		if saveTo, sealer, err = s.keyVault(ctx, p, ws, in.SaveToVault); err != nil {
			return nil, "", err
		}
	}
	if in.Settings, err = s.takeShared(ctx, p, ws, kt.Name, in.Settings); err != nil {
		return nil, "", err
	}
	scopes, err := kt.ValidateScopes(in.Scopes)
	if err != nil {
		return nil, "", err
	}
	settings, err := kt.ValidateSettings(in.Settings)
	if err != nil {
		return nil, "", err
	}
	now := s.Now()
	expires, err := w.Settings.Expiration.ResolveExpiry(now, in.ExpiresIn, in.ExpiresAt)
	if err != nil {
		return nil, "", err
	}
	var credits *latchkey.Credits
	if in.Credits != nil {
		if credits, err = in.Credits.Credits(now); err != nil {
			return nil, "", err
		}
	}
	k := &latchkey.Key{
		ID: s.ids.New(id.Key), WorkspaceID: ws, Name: in.Name, Description: in.Description,
		Type: kt.Name, Environment: in.Environment, Owner: owner, Scopes: scopes, Settings: settings,
		CallbackURL: in.CallbackURL, RateLimit: in.RateLimit, CreatedBy: p.UserID, CreatedAt: now,
		ExpiresAt: expires, OwnerActive: true, AllowedIPs: allowed, ExternalID: in.ExternalID, Meta: meta,
		Credits: credits, RateLimits: in.RateLimits,
	}
	if err := latchkey.AuthorizeKey(p, w.Settings, latchkey.KeyChange{Op: latchkey.OpMake, Type: kt, After: k}); err != nil {
		return nil, "", err
	}
	if err := s.checkQuota(ctx, ws, owner); err != nil {
		return nil, "", err
	}
	secret, start, err := s.format.New(s.rand, in.Environment)
	if err != nil {
		return nil, "", err
	}
	k.Start, k.Hash = start, token.Hash(secret)
	ev := s.event(p, ws, latchkey.EventKeyCreated, k.ID, map[string]any{
		"name": k.Name, "type": k.Type, "environment": k.Environment, "owner": k.Owner, "scopes": k.Scopes,
	})
	if err := s.store.CreateKey(ctx, k, ev); err != nil {
		return nil, "", err
	}
	if saveTo != nil {
		if err := s.saveNewKey(ctx, p, saveTo, sealer, k, secret); err != nil {
			return nil, "", err
		}
	}
	return k, secret, s.showShared(ctx, ws, k)
}

func resolveOwner(p latchkey.Principal, owner string) (string, error) {
	switch owner {
	case "":
		if p.Role == latchkey.RoleMember {
			return p.UserID, nil
		}
		return latchkey.OwnerWorkspace, nil
	case "me":
		return p.UserID, nil
	case latchkey.OwnerWorkspace:
		return owner, nil
	}
	return "", latchkey.Errorf(latchkey.EINVALID, `owner must be "workspace" or "me"`).WithDetail("field", "owner")
}

// ListKeys lists the keys of ws that p may see: all of them for admins, a
// member's own personal keys for members.
func (s *Service) ListKeys(ctx context.Context, p latchkey.Principal, ws string, f latchkey.KeyFilter) ([]*latchkey.Key, string, error) {
	w, err := s.workspace(ctx, p, ws, latchkey.ActKeysRead)
	if err != nil {
		return nil, "", err
	}
	if f.Owner == "me" {
		f.Owner = p.UserID
	}
	if p.Grant(latchkey.ActKeysRead) == latchkey.Own {
		if f.Owner != "" && f.Owner != p.UserID {
			return []*latchkey.Key{}, "", nil
		}
		f.Owner = p.UserID
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "status must be active, expiring, expired, revoked or disabled").WithDetail("field", "status")
	}
	if f.Environment != "" && !f.Environment.Valid() {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, `environment must be "production" or "demo"`).WithDetail("field", "environment")
	}
	if f.Limit < 0 || f.Limit > 200 {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "limit must be between 1 and 200").WithDetail("field", "limit")
	}
	f.WorkspaceID, f.Now, f.Windows = ws, s.Now(), w.Settings.Expiration.NoticeBefore
	keys, next, err := s.store.Keys(ctx, f)
	if err != nil {
		return nil, "", err
	}
	return keys, next, s.showShared(ctx, ws, keys...)
}

// Key returns one key of ws that p may see.
func (s *Service) Key(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error) {
	k, err := s.authorizedKey(ctx, p, ws, keyID, latchkey.ActKeysRead)
	if err != nil {
		return nil, err
	}
	return k, s.showShared(ctx, ws, k)
}

// authorizedKey loads a key and checks p may do a to it. A key p may not
// see answers ENOTFOUND whether or not it exists.
func (s *Service) authorizedKey(ctx context.Context, p latchkey.Principal, ws, keyID string, a latchkey.Action) (*latchkey.Key, error) {
	if err := latchkey.Authorize(p, a, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	if !id.Valid(id.Key, keyID) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "key not found")
	}
	k, err := s.store.Key(ctx, ws, keyID)
	if err != nil {
		return nil, err
	}
	if err := latchkey.Authorize(p, a, latchkey.Target{WorkspaceID: ws, Owner: k.Owner}); err != nil {
		return nil, err
	}
	return k, nil
}

// NoticeWindows returns ws's expiry notice windows, for deriving key statuses.
func (s *Service) NoticeWindows(ctx context.Context, ws string) ([]latchkey.Duration, error) {
	w, err := s.store.Workspace(ctx, ws)
	if err != nil {
		return nil, err
	}
	return w.Settings.Expiration.NoticeBefore, nil
}

// roleNow re-reads p's role in its workspace (a management key's: its
// creator's), so that a check made inside a write transaction sees a
// demotion committed before it. SQLite holds its one write lock meanwhile.
func (s *Service) roleNow(ctx context.Context, p latchkey.Principal) (latchkey.Principal, error) {
	if p.Kind != latchkey.PrincipalUser && p.Kind != latchkey.PrincipalKey {
		return p, nil
	}
	r, err := s.activeRole(ctx, p.WorkspaceID, p.UserID)
	p.Role = r
	return p, err
}

// activeRole is userID's role in ws, "" when not an active member.
func (s *Service) activeRole(ctx context.Context, ws, userID string) (latchkey.Role, error) {
	m, err := s.store.Member(ctx, ws, userID)
	switch {
	case latchkey.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", err
	case !m.Active:
		return "", nil
	}
	return m.Role, nil
}

// keyCheck re-reads, inside a key's write transaction, what AuthorizeKey
// needs besides the key: the caller's role, the key's creator's role and
// the workspace's key policies.
func (s *Service) keyCheck(ctx context.Context, p latchkey.Principal, ws string, before, after *latchkey.Key, op latchkey.KeyOp, grace time.Duration) error {
	kt, ok := s.catalog.Type(before.Type)
	if !ok {
		return latchkey.Errorf(latchkey.ECONFLICT, "the key's type %q is no longer in the catalog", before.Type)
	}
	p, err := s.roleNow(ctx, p)
	if err != nil {
		return err
	}
	creator, err := s.activeRole(ctx, ws, before.CreatedBy)
	if err != nil {
		return err
	}
	w, err := s.store.Workspace(ctx, ws)
	if err != nil {
		return err
	}
	return latchkey.AuthorizeKey(p, w.Settings, latchkey.KeyChange{Op: op, Type: kt, Before: before, After: after, CreatorRole: creator, Grace: grace})
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
