package latchkey

import "time"

// Event is an append-only audit record: who did what to which object, when,
// and from where. Events outlive the objects they name.
type Event struct {
	ID          string         `json:"id"`
	WorkspaceID string         `json:"workspace_id"`
	At          time.Time      `json:"at"`
	Actor       Actor          `json:"actor"`
	Action      string         `json:"action"`
	Target      string         `json:"target,omitempty"` // the object's id
	IP          string         `json:"ip,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
	// Seq, PrevHash and Hash (hex) place the event in its workspace's
	// audit chain (see ChainHash). The store sets them on insert; they are
	// empty only on an event an earlier release wrote and that was not
	// sealed yet.
	Seq      int64  `json:"seq,omitempty"`
	PrevHash string `json:"prev_hash,omitempty"`
	Hash     string `json:"hash,omitempty"`
}

// Actor is who caused an event.
type Actor struct {
	Type  string `json:"type"` // user, key, operator, system
	ID    string `json:"id,omitempty"`
	Label string `json:"label,omitempty"` // an email or a key name, for people reading the log
}

// Actor types.
const (
	ActorUser     = "user"
	ActorKey      = "key"
	ActorOperator = "operator"
	ActorSystem   = "system"
)

// Event actions.
const (
	EventKeyCreated = "key.created"
	EventKeyUpdated = "key.updated"
	EventKeyReset   = "key.reset"
	EventKeyRevoked = "key.revoked"
	EventKeyDeleted = "key.deleted"
	// EventKeyDisabled and EventKeyEnabled suspend a key and resume it.
	EventKeyDisabled = "key.disabled"
	EventKeyEnabled  = "key.enabled"
	// EventKeyExpiring is recorded by the jobs when a key enters a notice window.
	EventKeyExpiring = "key.expiring"
	// EventKeyExpired is recorded by the jobs once a key's expiry passes.
	EventKeyExpired = "key.expired"
	// EventKeyLeaked records a key's secret reported found in public (by
	// GitHub's secret scanning or a workspace's own scanner): where, never
	// the secret.
	EventKeyLeaked = "key.leaked"
	// EventWebhookSecretRotated records a new signing secret, never the secret.
	EventWebhookSecretRotated = "webhook_secret.rotated"
	// EventWebhookSecretRevealed records who was shown the signing secret.
	EventWebhookSecretRevealed = "webhook_secret.revealed"
	EventLogin                 = "auth.login"
	EventLoginFailed           = "auth.login_failed"
	EventLogout                = "auth.logout"
	EventWorkspaceCreated      = "workspace.created"
	EventSettingsUpdated       = "settings.updated"
	EventMemberAdded           = "member.added"
	EventMemberUpdated         = "member.updated"
	EventMemberRemoved         = "member.removed"
	// EventMemberInvited records a new invitation link for a member.
	EventMemberInvited = "member.invited"
	// EventMemberJoined records a person accepting an invitation: the
	// target is the account that now holds the membership.
	EventMemberJoined       = "member.joined"
	EventOwnerDeprovisioned = "key.owner_deprovisioned"
	EventScimKeyRequested   = "scim_key.requested"
	// EventScimKeyRequestIssue records a SCIM key created for a request;
	// before pickup existed, by the operator who then received its secret.
	EventScimKeyRequestIssue = "scim_key.issued"
	// EventScimKeyApproved records an operator's approval of a request.
	EventScimKeyApproved = "scim_key.approved"
	// EventScimKeyPickedUp records an admin's pickup of an approved
	// request: the SCIM key is created then, its secret shown to them.
	EventScimKeyPickedUp = "scim_key.picked_up"
	// SCIM provisioning; the actor is the SCIM key. Membership changes it
	// makes are member.added, member.updated and member.removed events.
	EventScimUserCreated  = "scim.user_created"
	EventScimUserUpdated  = "scim.user_updated"
	EventScimGroupCreated = "scim.group_created"
	EventScimGroupUpdated = "scim.group_updated"
	EventScimGroupDeleted = "scim.group_deleted"
)

// EventFilter selects events of one workspace, newest first.
type EventFilter struct {
	WorkspaceID string
	Action      string // exact, or a prefix ending in "." such as "key."
	Target      string
	Actor       string // an actor id, or a person's email
	From, To    *time.Time
	Limit       int
	Cursor      string
}
