package manage

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// ScimPrincipal is the principal of an authenticated SCIM key: its
// workspace's identity provider. Any other type of key is refused, so a
// leaked management or public key cannot provision users.
func (s *Service) ScimPrincipal(k *latchkey.Key, ip string) (latchkey.Principal, error) {
	if k == nil || k.Type != latchkey.TypeSCIM {
		return latchkey.Principal{}, latchkey.Errorf(latchkey.EUNAUTHORIZED, "only a scim key may call the SCIM API")
	}
	return latchkey.Principal{Kind: latchkey.PrincipalSCIM, KeyID: k.ID, Name: k.Name, WorkspaceID: k.WorkspaceID, IP: ip}, nil
}

func authorizeScim(p latchkey.Principal) error {
	return latchkey.Authorize(p, latchkey.ActScimProvision, latchkey.Target{WorkspaceID: p.WorkspaceID})
}

// ScimSettings returns the settings of the SCIM key's workspace, whose
// scim_custom_attributes switch decides what SCIM stores and returns.
func (s *Service) ScimSettings(ctx context.Context, p latchkey.Principal) (latchkey.Settings, error) {
	w, err := s.workspace(ctx, p, p.WorkspaceID, latchkey.ActScimProvision)
	if err != nil {
		return latchkey.Settings{}, err
	}
	return w.Settings, nil
}

// ScimExtensionAttrs lists the custom extension attributes the workspace stores.
func (s *Service) ScimExtensionAttrs(ctx context.Context, p latchkey.Principal) ([]latchkey.ScimExtensionAttr, error) {
	if err := authorizeScim(p); err != nil {
		return nil, err
	}
	return s.store.ScimExtensionAttrs(ctx, p.WorkspaceID)
}

// ScimUsers lists the workspace's provisioned users matching q.
func (s *Service) ScimUsers(ctx context.Context, p latchkey.Principal, q latchkey.ScimQuery) ([]*latchkey.ScimUser, int, error) {
	if err := authorizeScim(p); err != nil {
		return nil, 0, err
	}
	q.WorkspaceID = p.WorkspaceID
	return s.store.ScimUsers(ctx, q)
}

// ScimUser returns one provisioned user of the workspace.
func (s *Service) ScimUser(ctx context.Context, p latchkey.Principal, userID string) (*latchkey.ScimUser, error) {
	if err := authorizeScim(p); err != nil {
		return nil, err
	}
	if !id.Valid(id.User, userID) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
	}
	return s.store.ScimUser(ctx, p.WorkspaceID, userID)
}

// CreateScimUser provisions u (its Email is the address to find or invite
// the person by). A member of this workspace with that address, joined or
// invited, is linked rather than duplicated, keeping their role; anyone
// else gets a new identity that belongs to this workspace alone, exactly
// as an admin's invitation makes: an identity provider of one workspace
// never links, deprovisions or reveals an account known elsewhere. The
// person joins by accepting an invitation link (InviteMember). A new
// member's role is member: roles stay a latchkey decision.
func (s *Service) CreateScimUser(ctx context.Context, p latchkey.Principal, u *latchkey.ScimUser) (*latchkey.ScimUser, error) {
	if err := authorizeScim(p); err != nil {
		return nil, err
	}
	email, err := latchkey.NormalizeEmail(u.Email)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "a provisioned user needs an email address (in emails, or as the userName) to log in with").
			WithDetail("scim_type", "invalidValue")
	}
	name, err := memberName(u.Name)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "name: %s", err.(*latchkey.Error).Message).WithDetail("scim_type", "invalidValue")
	}
	u.Name = name
	ws, now := p.WorkspaceID, s.Now()
	var nu *latchkey.User
	members, err := s.store.Members(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.Email == email {
			u.UserID = m.UserID
		}
	}
	if u.UserID == "" {
		nu = &latchkey.User{ID: s.ids.New(id.User), Email: email, Name: name, CreatedAt: now}
		u.UserID = nu.ID
	}
	u.WorkspaceID, u.Created, u.Updated = ws, now, now
	var prev *latchkey.Member
	err = s.store.CreateScimUser(ctx, u, nu, func(m *latchkey.Member) ([]latchkey.Event, error) {
		prev = m
		evs := []latchkey.Event{s.event(p, ws, latchkey.EventScimUserCreated, u.UserID,
			map[string]any{"user_name": u.UserName, "email": email, "linked": nu == nil})}
		switch {
		case m == nil:
			evs = append(evs, s.event(p, ws, latchkey.EventMemberAdded, u.UserID,
				map[string]any{"email": email, "role": latchkey.RoleMember, "active": u.Active}))
		case m.Active != u.Active:
			evs = append(evs, s.event(p, ws, latchkey.EventMemberUpdated, u.UserID, map[string]any{"email": m.Email, "active": u.Active}))
		}
		return evs, nil
	})
	if err != nil {
		return nil, lastOwner(err)
	}
	if prev != nil {
		if err := s.activeChanged(ctx, p, u.UserID, prev.Active, u.Active); err != nil {
			return nil, err
		}
	}
	return s.store.ScimUser(ctx, ws, u.UserID)
}

// UpdateScimUser applies fn (a PATCH or a PUT) to a provisioned user in
// one transaction: if fn fails nothing changes. Deprovisioning (Active
// false) then follows the deprovisioning path: sessions end, personal keys
// stop on every instance, each key's log says why.
func (s *Service) UpdateScimUser(ctx context.Context, p latchkey.Principal, userID string, fn func(*latchkey.ScimUser) error) (*latchkey.ScimUser, error) {
	if err := authorizeScim(p); err != nil {
		return nil, err
	}
	if !id.Valid(id.User, userID) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
	}
	ws := p.WorkspaceID
	var was, now bool
	out, err := s.store.UpdateScimUser(ctx, ws, userID, func(u *latchkey.ScimUser) ([]latchkey.Event, error) {
		was = u.Active
		before := scimState(u)
		oldEmail, oldName := u.Email, u.Name
		if err := fn(u); err != nil {
			return nil, err
		}
		now = u.Active
		if e, err := latchkey.NormalizeEmail(u.Email); err == nil {
			u.Email = e
		} else {
			u.Email = oldEmail
		}
		if u.Name = strings.TrimSpace(u.Name); u.Name == "" {
			u.Name = oldName
		}
		if scimState(u) == before {
			return nil, nil // an IdP re-sending what we have: no write, no event
		}
		u.Updated = s.Now()
		evs := []latchkey.Event{s.event(p, ws, latchkey.EventScimUserUpdated, userID, map[string]any{"user_name": u.UserName})}
		if was != now {
			evs = append(evs, s.event(p, ws, latchkey.EventMemberUpdated, userID, map[string]any{"email": u.Email, "active": now}))
		}
		return evs, nil
	})
	if err != nil {
		return nil, lastOwner(err)
	}
	return out, s.activeChanged(ctx, p, userID, was, out.Active)
}

// DeleteScimUser removes a provisioned user from the workspace, as
// RemoveMember does: the membership, its SCIM record and group
// memberships go; the person's account and their other workspaces stay.
func (s *Service) DeleteScimUser(ctx context.Context, p latchkey.Principal, userID string) error {
	if _, err := s.ScimUser(ctx, p, userID); err != nil {
		return err
	}
	return lastOwner(s.removeMember(ctx, p, p.WorkspaceID, userID, "removed", func(*latchkey.Member) error { return nil }))
}

// activeChanged applies what follows a change of a member's active flag,
// after the store committed it.
func (s *Service) activeChanged(ctx context.Context, p latchkey.Principal, userID string, was, now bool) error {
	switch {
	case was && !now:
		return s.ownerGone(ctx, p, p.WorkspaceID, userID, "deprovisioned")
	case !was && now && s.inv != nil:
		s.inv.InvalidateOwner(p.WorkspaceID, userID)
	}
	return nil
}

// scimState is what a SCIM write may change, to tell a real change from
// an identity provider repeating itself.
func scimState(u *latchkey.ScimUser) string {
	b, _ := json.Marshal([]any{u.UserName, u.ExternalID, u.Active, u.Emails, u.Doc, u.Email, u.Name})
	return string(b)
}

// lastOwner turns the store's last-owner conflict into SCIM's mutability
// error: the identity provider asked for a state latchkey must refuse, and
// a 400 tells it not to retry.
func lastOwner(err error) error {
	var e *latchkey.Error
	if errors.As(err, &e) && e.Code == latchkey.ECONFLICT && e.Details["field"] == "role" {
		return latchkey.Errorf(latchkey.EINVALID, "this user is the workspace's last active owner: make another owner in latchkey first").
			WithDetail("scim_type", "mutability")
	}
	return err
}
