package manage

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// PortalLinkTTL is how long a portal sign-in link can be used (once).
const PortalLinkTTL = 5 * time.Minute

// Events of portal identities and sessions.
const (
	EventPortalSessionCreated = "portal.session_created"
	EventPortalSignedIn       = "portal.signed_in"
)

// portalConfig is the product's side of portal sessions.
type portalConfig struct {
	origins []string // lower-case scheme://host[:port]
}

func newPortalConfig(origins []string) portalConfig {
	var c portalConfig
	for _, o := range origins {
		if n := latchkey.Origin(strings.TrimSpace(o)); n != "" {
			c.origins = append(c.origins, n)
		}
	}
	return c
}

// ReturnURLAllowed reports whether raw is an absolute URL on one of the
// product's origins: where "Back to <product>" may lead.
func (s *Service) ReturnURLAllowed(raw string) bool {
	o := latchkey.Origin(raw)
	return o != "" && slices.Contains(s.portal.origins, o)
}

// platformPrincipal resolves a platform key as seen from ws: inside a
// workspace only its product provisioned; anywhere else Authorize answers
// ENOTFOUND, as for any workspace a principal cannot see.
func (s *Service) platformPrincipal(ctx context.Context, c Caller, ws string) (latchkey.Principal, error) {
	k := c.Platform
	p := latchkey.Principal{Kind: latchkey.PrincipalPlatform, KeyID: k.ID, Name: k.Name, Scopes: k.Scopes,
		Product: k.Product, MaxRole: k.MaxRole, IP: c.IP}
	if ws == "" {
		return p, nil
	}
	product, err := s.store.WorkspaceProduct(ctx, ws)
	switch {
	case latchkey.IsNotFound(err):
		return p, nil
	case err != nil:
		return p, err
	case product == k.Product:
		p.WorkspaceID = ws
	}
	return p, nil
}

// checkPortalUser validates a product's person and the role it gives
// them, which may not be above the platform key's MaxRole.
func checkPortalUser(p latchkey.Principal, in *latchkey.PortalUser) error {
	if err := latchkey.ValidateExternalID("external_id", in.ExternalID); err != nil {
		return err
	}
	email, err := latchkey.NormalizeEmail(in.Email)
	if err != nil {
		return err
	}
	in.Email = email
	if in.Name, err = memberName(in.Name); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = latchkey.RoleMember
	}
	if !in.Role.Valid() {
		return latchkey.Errorf(latchkey.EINVALID, "role must be owner, super_admin, admin or member").WithDetail("field", "role")
	}
	if latchkey.RoleRank(in.Role) > latchkey.RoleRank(p.MaxRole) {
		return latchkey.Errorf(latchkey.EFORBIDDEN, "this platform key may give at most the role %s, not %s", p.MaxRole, in.Role).
			WithDetail("field", "role").WithDetail("max_role", p.MaxRole)
	}
	return nil
}

// SyncPortalMember makes the product's person externalID a member of ws
// with the role given (PUT by external id): a new portal identity the
// first time, the same one after. The identity belongs to ws alone: it has
// no password, cannot be invited or merged, and is found by no email.
func (s *Service) SyncPortalMember(ctx context.Context, p latchkey.Principal, ws string, in latchkey.PortalUser) (*latchkey.Member, error) {
	if err := latchkey.Authorize(p, latchkey.ActPortalMembersSync, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	return s.syncPortalMember(ctx, p, ws, in)
}

func (s *Service) syncPortalMember(ctx context.Context, p latchkey.Principal, ws string, in latchkey.PortalUser) (*latchkey.Member, error) {
	if err := checkPortalUser(p, &in); err != nil {
		return nil, err
	}
	u := &latchkey.User{ID: s.ids.New(id.User), Email: in.Email, Name: in.Name, CreatedAt: s.Now()}
	m, err := s.store.SyncPortalMember(ctx, ws, in.ExternalID, u, in.Role, func(prev *latchkey.Member) (*latchkey.Event, error) {
		// A person the workspace's own owners raised above the key's
		// max_role is out of the product's reach: it may not demote them.
		if prev != nil && latchkey.RoleRank(prev.Role) > latchkey.RoleRank(p.MaxRole) {
			return nil, latchkey.Errorf(latchkey.EFORBIDDEN, "this platform key may manage roles up to %s, and this member is %s", p.MaxRole, prev.Role).
				WithDetail("max_role", p.MaxRole)
		}
		data := map[string]any{"email": in.Email, "role": in.Role, "external_id": in.ExternalID}
		switch {
		case prev == nil:
			ev := s.event(p, ws, latchkey.EventMemberAdded, u.ID, data)
			return &ev, nil
		case prev.Role != in.Role || !prev.Active || prev.Email != in.Email:
			ev := s.event(p, ws, latchkey.EventMemberUpdated, prev.UserID, data)
			return &ev, nil
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	if s.inv != nil {
		// A role change narrows the member's management keys at once.
		s.inv.InvalidateOwner(ws, m.UserID)
	}
	return m, nil
}

// RemovePortalMember ends the membership of the product's person
// externalID in ws: their keys there are revoked as for any removal, and
// every session of theirs ends, portal sessions included (the identity
// belongs to ws alone, so it has no other).
func (s *Service) RemovePortalMember(ctx context.Context, p latchkey.Principal, ws, externalID string) error {
	if err := latchkey.Authorize(p, latchkey.ActPortalMembersSync, latchkey.Target{WorkspaceID: ws}); err != nil {
		return err
	}
	if err := latchkey.ValidateExternalID("external_id", externalID); err != nil {
		return err
	}
	pi, err := s.store.PortalIdentity(ctx, ws, externalID)
	if err != nil {
		return err
	}
	err = s.removeMember(ctx, p, ws, pi.UserID, "removed", func(m *latchkey.Member) error {
		if latchkey.RoleRank(m.Role) > latchkey.RoleRank(p.MaxRole) {
			return latchkey.Errorf(latchkey.EFORBIDDEN, "this platform key may manage roles up to %s, and this member is %s", p.MaxRole, m.Role)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.store.DeleteUserSessions(ctx, pi.UserID)
}

// PortalSessionRequest is a product's request to sign one of its people
// into the console of one workspace.
type PortalSessionRequest struct {
	WorkspaceID string              `json:"workspace_id"`
	User        latchkey.PortalUser `json:"user"`
	ReturnURL   string              `json:"return_url"`
}

// PortalLink is a minted sign-in link: Token goes into the URL the product
// sends its person to; it works once, until ExpiresAt.
type PortalLink struct {
	Token     string
	ExpiresAt time.Time
}

// CreatePortalSession syncs the person into the workspace with the role
// the product asserts (never above the key's MaxRole) and mints a one-time
// sign-in link valid PortalLinkTTL. return_url, where "Back to <product>"
// leads, must be on one of the product's configured origins.
func (s *Service) CreatePortalSession(ctx context.Context, p latchkey.Principal, in PortalSessionRequest) (*PortalLink, error) {
	if in.WorkspaceID == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "workspace_id is required").WithDetail("field", "workspace_id")
	}
	if len(in.WorkspaceID) > 100 {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	// The workspace is in the body, not the path: resolve the key there.
	if p.Kind == latchkey.PrincipalPlatform && in.WorkspaceID != "" {
		var err error
		if p, err = s.platformPrincipal(ctx, Caller{Platform: &latchkey.PlatformKey{ID: p.KeyID, Name: p.Name,
			Product: p.Product, Scopes: p.Scopes, MaxRole: p.MaxRole}, IP: p.IP}, in.WorkspaceID); err != nil {
			return nil, err
		}
	}
	if err := latchkey.Authorize(p, latchkey.ActPortalSessionCreate, latchkey.Target{WorkspaceID: in.WorkspaceID}); err != nil {
		return nil, err
	}
	if in.ReturnURL != "" && !s.ReturnURLAllowed(in.ReturnURL) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "return_url must be an absolute URL on one of the product's origins (--portal-origins)").WithDetail("field", "return_url")
	}
	if in.ReturnURL != "" {
		u, _ := url.Parse(in.ReturnURL)
		in.ReturnURL = u.String()
	}
	m, err := s.syncPortalMember(ctx, p, in.WorkspaceID, in.User)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now()
	t := &latchkey.PortalToken{Hash: sha256.Sum256([]byte(tok)), UserID: m.UserID, WorkspaceID: in.WorkspaceID, KeyID: p.KeyID,
		ReturnURL: in.ReturnURL, CreatedAt: now, ExpiresAt: now.Add(PortalLinkTTL)}
	ev := s.event(p, in.WorkspaceID, EventPortalSessionCreated, m.UserID, map[string]any{"external_id": in.User.ExternalID, "role": m.Role})
	if err := s.store.CreatePortalToken(ctx, t, ev); err != nil {
		return nil, err
	}
	return &PortalLink{Token: tok, ExpiresAt: t.ExpiresAt}, nil
}

// PortalEntry is what redeeming a portal link gives the browser.
type PortalEntry struct {
	User        *latchkey.User
	Session     string // the session cookie's value
	WorkspaceID string
	ReturnURL   string // "" when none was given
}

// errPortalLinkGone is the one answer to a link that is unknown, used,
// expired or whose membership ended.
var errPortalLinkGone = latchkey.Errorf(latchkey.ENOTFOUND, "this sign-in link is unknown, used or expired: go back to your product and open the page again")

// RedeemPortalLink uses a portal link once and opens a console session for
// its person. Guesses are throttled per address like invitation tokens.
func (s *Service) RedeemPortalLink(ctx context.Context, tok, ip string) (*PortalEntry, error) {
	if tok == "" || len(tok) > 100 {
		return nil, errPortalLinkGone
	}
	r, err := s.reserveTokenUse("portal", ip)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		r.release()
		return nil, err
	}
	session := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now()
	sess := &latchkey.Session{Hash: sha256.Sum256([]byte(session)), CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	t, err := s.store.RedeemPortalToken(ctx, sha256.Sum256([]byte(tok)), now, sess)
	if latchkey.IsNotFound(err) {
		r.fail()
		return nil, errPortalLinkGone
	}
	if err != nil {
		r.release()
		return nil, err
	}
	r.succeed()
	u, err := s.store.User(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	up := latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: u.ID, Email: u.Email, IP: ip}
	_ = s.store.AppendEvent(ctx, s.event(up, t.WorkspaceID, EventPortalSignedIn, u.ID, map[string]any{"platform_key": t.KeyID}))
	ret := t.ReturnURL
	if !s.ReturnURLAllowed(ret) {
		ret = "" // the product's origins changed since
	}
	return &PortalEntry{User: u, Session: session, WorkspaceID: t.WorkspaceID, ReturnURL: ret}, nil
}

// IsPortalIdentity reports whether the user signs in through their
// product only (the console then offers no password page).
func (s *Service) IsPortalIdentity(ctx context.Context, userID string) bool {
	_, err := s.store.PortalIdentityOf(ctx, userID)
	return err == nil
}
