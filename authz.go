package latchkey

import (
	"maps"
	"slices"
)

// Action is something a principal may try to do in a workspace.
type Action string

// Actions checked by the authorization table.
const (
	ActKeysRead         Action = "keys.read"
	ActKeyCreate        Action = "keys.create"
	ActKeyUpdate        Action = "keys.update"
	ActKeyRevoke        Action = "keys.revoke"
	ActKeyReset         Action = "keys.reset"
	ActKeyDelete        Action = "keys.delete"
	ActEventsRead       Action = "events.read"
	ActSettingsRead     Action = "settings.read"
	ActSettingsWrite    Action = "settings.write"
	ActMembersRead      Action = "members.read"
	ActMembersWrite     Action = "members.write"
	ActOwnersWrite      Action = "owners.write"
	ActVaultsRead       Action = "vaults.read"
	ActVaultsWrite      Action = "vaults.write"
	ActSecretReveal     Action = "vaults.reveal"
	ActScimKeyRequest   Action = "scim_key_requests.create"
	ActScimKeyIssue     Action = "scim_key_requests.issue"
	ActScimKeyPickup    Action = "scim_key_requests.pickup" // the workspace's admins take the key an operator approved
	ActScimRequestsRead Action = "scim_key_requests.read"
	ActWorkspacesCreate Action = "workspaces.create"
	ActWorkspacesList   Action = "workspaces.list"
	ActScimProvision    Action = "scim.provision"
	// ActOutboxRead lists the mail sent (or waiting to be sent) about the workspace.
	ActOutboxRead Action = "outbox.read"
	// ActWebhookSecretRead shows the workspace's webhook signing secret.
	ActWebhookSecretRead Action = "webhook_secret.read"
	// ActSSORead and ActSSOWrite are the workspace's single sign-on: who
	// configures it decides who can sign in, so owners alone.
	ActSSORead  Action = "sso.read"
	ActSSOWrite Action = "sso.write"
	// ActLeaksReport reports tokens found where they should not be (a
	// company's own secret scanner); the workspace's leak policy decides.
	ActLeaksReport Action = "leaks.report"
	// ActPlatformKeysManage creates, lists and revokes platform keys.
	ActPlatformKeysManage Action = "platform_keys.manage"
	// ActPortalMembersSync adds, updates and removes a product's people by
	// the product's own user id (platform keys only).
	ActPortalMembersSync Action = "portal_members.sync"
	// ActPortalSessionCreate mints a one-time console sign-in link for a
	// product's person (platform keys only).
	ActPortalSessionCreate Action = "portal_sessions.create"
	// ActKeyDisable suspends a key and resumes it: held as revoke is,
	// since a disable stops a key as surely, for a while.
	ActKeyDisable Action = "keys.disable"
)

// Grant is how much of an action a role holds.
type Grant uint8

// Grants: none, only objects the principal owns (personal keys), or all.
const (
	No Grant = iota
	Own
	All
)

// Rule is one row of the authorization table.
type Rule struct {
	Owner, SuperAdmin, Admin, Member Grant
	// Scope is what a management key needs for the action; "" means no
	// management key may do it.
	Scope string
	// Operator reports whether platform operators may do it.
	Operator bool
	// SCIM reports whether a workspace's SCIM keys may do it (in their
	// own workspace only); they may do nothing else.
	SCIM bool
}

// table is the one authorization table: role × action. Every handler of
// every surface (API, console, SCIM, CLI) asks Authorize, which reads it;
// others read it through RuleFor and Actions, so no code can change it.
//
// Keys add one rule on top, decided by AuthorizeKey alone: no principal can
// create, widen or obtain a secret more powerful than itself. A key's power
// is its type, owner, scopes, settings and rate limit, and a role bound: a
// management key acts with its creator's current role (never more than its
// scopes), a SCIM key with an owner's (it can deprovision owners). Creating
// a key, widening one, or resetting one (obtaining its secret) needs the
// caller to hold all of it: to be allowed to create that type for that
// owner, to have at least the role bound, and every management scope —
// which for a management key caller means its own scopes too. Hence:
//   - management keys: only scopes the caller holds, and resetting or
//     widening another's management key needs the creator's role or above;
//   - SCIM keys: only owners (their session, not a key) create or reset them;
//   - personal keys: where members may not create them, a member may only
//     narrow their keys and reset them without a grace period, so an
//     admin's narrowing holds.
//
// A vault's own reveal list narrows its rows: Own is the vaults whose list
// names the member (by role or id), and a reveal needs that list for
// every role.
var table = map[Action]Rule{
	//                   owner super admin member  management-key scope   operator  scim key
	ActKeysRead:          {All, All, All, Own, "keys:read", true, false},
	ActKeyCreate:         {All, All, All, Own, "keys:write", false, false},
	ActKeyUpdate:         {All, All, All, Own, "keys:write", false, false},
	ActKeyRevoke:         {All, All, All, Own, "keys:write", false, false},
	ActKeyDisable:        {All, All, All, Own, "keys:write", false, false},
	ActKeyReset:          {All, All, All, Own, "keys:write", false, false},
	ActKeyDelete:         {All, All, All, Own, "keys:write", false, false},
	ActEventsRead:        {All, All, All, No, "events:read", false, false},
	ActSettingsRead:      {All, All, All, All, "keys:read", true, false},
	ActSettingsWrite:     {All, All, No, No, "", false, false},
	ActWebhookSecretRead: {All, All, No, No, "", false, false},
	ActMembersRead:       {All, All, All, No, "members:read", true, false},
	ActMembersWrite:      {All, All, No, No, "members:write", false, false},
	ActOwnersWrite:       {All, No, No, No, "", false, false},
	ActVaultsRead:        {All, All, All, Own, "vaults:read", false, false},
	ActVaultsWrite:       {All, All, All, No, "vaults:write", false, false},
	ActSecretReveal:      {All, All, All, Own, "vaults:read", false, false},
	ActScimKeyRequest:    {All, All, All, No, "", false, false},
	ActScimKeyIssue:      {No, No, No, No, "", true, false},
	ActScimKeyPickup:     {All, All, All, No, "", false, false},
	ActScimRequestsRead:  {All, All, All, No, "", true, false},
	ActWorkspacesCreate:  {No, No, No, No, "", true, false},
	ActWorkspacesList:    {No, No, No, No, "", true, false},
	ActScimProvision:     {No, No, No, No, "", false, true},
	ActOutboxRead:        {All, All, All, No, "", false, false},
	ActSSORead:           {All, No, No, No, "", false, false},
	ActSSOWrite:          {All, No, No, No, "", false, false},
	ActLeaksReport:       {All, All, All, No, "leaks:report", false, false},
	// Platform keys' actions: operators manage the keys; what the keys
	// themselves may do is platformTable.
	ActPlatformKeysManage:  {No, No, No, No, "", true, false},
	ActPortalMembersSync:   {No, No, No, No, "", false, false},
	ActPortalSessionCreate: {No, No, No, No, "", false, false},
}

// platformTable is the platform keys' column of the table: the scope a
// platform key needs for each action it may take at all. Inside a
// workspace it acts only where its product provisioned the workspace
// (Principal.WorkspaceID is set only there). It holds no action on keys,
// events, settings or vaults: a platform key provisions and signs people
// in, and whoever it signs in acts with their own, bounded, role. Reading
// a workspace's audit log is deliberately not granted, not even for the
// workspaces the product created: the log names the workspace's people,
// their addresses and what they did, which is the customer's, not the
// vendor backend's.
var platformTable = map[Action]string{
	ActWorkspacesList:      ScopeWorkspacesRead,
	ActWorkspacesCreate:    ScopeWorkspacesWrite,
	ActPortalMembersSync:   ScopeMembersWrite,
	ActPortalSessionCreate: ScopePortalWrite,
}

// PlatformScopeFor returns the platform scope action a needs, and whether
// platform keys may take it at all.
func PlatformScopeFor(a Action) (string, bool) {
	s, ok := platformTable[a]
	return s, ok
}

// RuleFor returns the authorization rule of a, and whether a has one.
func RuleFor(a Action) (Rule, bool) {
	r, ok := table[a]
	return r, ok
}

// Actions returns every action of the authorization table, sorted.
func Actions() []Action {
	return slices.Sorted(maps.Keys(table))
}

// PrincipalKind says how a caller authenticated.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalAnonymous PrincipalKind = ""
	PrincipalUser      PrincipalKind = "user"
	PrincipalKey       PrincipalKind = "key" // a management key
	PrincipalOperator  PrincipalKind = "operator"
	PrincipalSCIM      PrincipalKind = "scim" // a SCIM key: its identity provider
	// PrincipalPlatform is a platform key: the vendor's backend.
	PrincipalPlatform PrincipalKind = "platform"
)

// Principal is an authenticated caller as seen from one workspace.
type Principal struct {
	Kind   PrincipalKind
	UserID string // the user; for a management key, the member who created it
	Email  string
	KeyID  string // for a management key
	Name   string // the management key's name, for the audit log
	// WorkspaceID is the workspace Role refers to; a management key can
	// never act outside its own workspace.
	WorkspaceID string
	// Role is the user's (or the key creator's) role in WorkspaceID now; ""
	// when not a member or no longer active.
	Role   Role
	Scopes []string
	// IP is the caller's address, recorded in the audit log.
	IP string
	// Product is a platform key's product; WorkspaceID is then the path's
	// workspace only when that product provisioned it.
	Product string
	// MaxRole is the highest role a platform key may give a person.
	MaxRole Role
}

// Actor describes the principal for the audit log.
func (p Principal) Actor() Actor {
	switch p.Kind {
	case PrincipalKey, PrincipalSCIM:
		return Actor{Type: ActorKey, ID: p.KeyID, Label: p.Name}
	case PrincipalOperator:
		return Actor{Type: ActorOperator, ID: p.UserID, Label: p.Email}
	case PrincipalPlatform:
		return Actor{Type: ActorPlatformKey, ID: p.KeyID, Label: p.Name}
	case PrincipalUser:
		return Actor{Type: ActorUser, ID: p.UserID, Label: p.Email}
	}
	return Actor{Type: ActorSystem}
}

// Target is the object of an action, where there is one.
type Target struct {
	WorkspaceID string
	// Owner is the key's owner: OwnerWorkspace or a user id. "" for actions
	// on the workspace as a whole.
	Owner string
}

// Authorize decides whether p may do a to t. Objects of a workspace the
// principal cannot see answer ENOTFOUND, never EFORBIDDEN, so that their
// existence does not leak; so do keys a member may not see.
func Authorize(p Principal, a Action, t Target) error {
	rule, ok := table[a]
	if !ok {
		return Errorf(EINTERNAL, "action %q has no authorization rule", a)
	}
	if p.Kind == PrincipalAnonymous {
		return Errorf(EUNAUTHORIZED, "authentication required")
	}
	if p.Kind == PrincipalPlatform {
		return authorizePlatform(p, a, t)
	}
	if p.Kind == PrincipalOperator {
		if rule.Operator {
			return nil
		}
		if t.WorkspaceID == "" {
			return Errorf(EFORBIDDEN, "operators may not do this")
		}
		return Errorf(EFORBIDDEN, "operators may not do this in a workspace")
	}
	if t.WorkspaceID == "" {
		// Platform-wide actions are for operators only.
		return Errorf(EFORBIDDEN, "only operators may do this")
	}
	if p.Kind == PrincipalSCIM {
		// A SCIM key has no role: it is its workspace's identity provider,
		// which may provision and nothing more.
		if p.WorkspaceID != t.WorkspaceID {
			return Errorf(ENOTFOUND, "workspace not found")
		}
		if !rule.SCIM {
			return Errorf(EFORBIDDEN, "SCIM keys may only provision users and groups")
		}
		return nil
	}
	if p.WorkspaceID != t.WorkspaceID || p.Role == "" {
		return Errorf(ENOTFOUND, "workspace not found")
	}
	if p.Kind == PrincipalKey && (rule.Scope == "" || !slices.Contains(p.Scopes, rule.Scope)) {
		need := rule.Scope
		if need == "" {
			return Errorf(EFORBIDDEN, "management keys may not do this")
		}
		return Errorf(EFORBIDDEN, "this key lacks the scope %s", need).WithDetail("missing_scopes", []string{need})
	}
	switch rule.grant(p.Role) {
	case All:
		return nil
	case Own:
		if t.Owner == "" || t.Owner == p.UserID {
			return nil
		}
		if a == ActKeyCreate {
			return Errorf(EFORBIDDEN, "your role (%s) may create only your own personal keys", p.Role)
		}
		return Errorf(ENOTFOUND, "key not found")
	}
	return Errorf(EFORBIDDEN, "your role (%s) may not do this", p.Role)
}

// authorizePlatform decides for a platform key: the action must be in
// platformTable, the key must hold its scope, and inside a workspace the
// workspace must be its product's.
func authorizePlatform(p Principal, a Action, t Target) error {
	need, ok := platformTable[a]
	if !ok {
		return Errorf(EFORBIDDEN, "platform keys may not do this")
	}
	if t.WorkspaceID != "" && p.WorkspaceID != t.WorkspaceID {
		return Errorf(ENOTFOUND, "workspace not found")
	}
	if !slices.Contains(p.Scopes, need) {
		return Errorf(EFORBIDDEN, "this platform key lacks the scope %s", need).WithDetail("missing_scopes", []string{need})
	}
	return nil
}

// Grant reports what role r holds of a, for listings that filter rather than refuse.
func (p Principal) Grant(a Action) Grant {
	if p.Kind == PrincipalPlatform {
		if Authorize(p, a, Target{WorkspaceID: p.WorkspaceID}) == nil {
			return All
		}
		return No
	}
	if p.Kind == PrincipalOperator {
		if table[a].Operator {
			return All
		}
		return No
	}
	if p.Kind == PrincipalSCIM {
		if table[a].SCIM {
			return All
		}
		return No
	}
	if p.Kind == PrincipalKey && !slices.Contains(p.Scopes, table[a].Scope) {
		return No
	}
	return table[a].grant(p.Role)
}

func (r Rule) grant(role Role) Grant {
	switch role {
	case RoleOwner:
		return r.Owner
	case RoleSuperAdmin:
		return r.SuperAdmin
	case RoleAdmin:
		return r.Admin
	case RoleMember:
		return r.Member
	}
	return No
}

// AuthorizeKeyCreate applies the ownership rules of key creation on top of
// the table: which types may be personal, who may own a personal key, and
// who may issue SCIM keys under the workspace's policy. owner is already
// resolved ("me" replaced by the caller's user id).
func AuthorizeKeyCreate(p Principal, s Settings, t *KeyType, owner string) error {
	if err := Authorize(p, ActKeyCreate, Target{WorkspaceID: p.WorkspaceID, Owner: owner}); err != nil {
		return err
	}
	if owner != OwnerWorkspace {
		if !t.Personal {
			return Errorf(EFORBIDDEN, "%s keys cannot be personal; create them for the workspace", t.Name).WithDetail("field", "owner")
		}
		if p.Role == RoleMember && !s.MembersMayCreatePersonalKeys {
			return Errorf(EFORBIDDEN, "this workspace does not let members create personal keys")
		}
	}
	if t.Name == TypeSCIM {
		if s.ScimKeyIssuance != IssuanceAdmins {
			return Errorf(EFORBIDDEN, "SCIM keys of this workspace are issued by the vendor's support team: send a SCIM key request")
		}
		// A SCIM key provisions and deprovisions any member, owners
		// included: only a principal that may remove owners holds that,
		// which is an owner's own session and never a management key.
		if p.Kind != PrincipalUser || p.Role != RoleOwner {
			return Errorf(EFORBIDDEN, "only owners may create or reset SCIM keys: a SCIM key can deprovision any member, owners included")
		}
	}
	return nil
}
