package latchkey

import (
	"context"
	"encoding/json"
	"time"
)

// Store is the storage contract. Two implementations exist (internal/sqlite,
// internal/postgres) and one suite (internal/storetest) checks both.
//
// Every write that changes state records its audit event in the same
// transaction, so an acknowledged change always has its event and vice versa.
// Missing records are ENOTFOUND errors; uniqueness violations are ECONFLICT.
type Store interface {
	WorkspaceStore
	UserStore
	KeyStore
	EventStore
	SessionStore
	UsageStore
	ScimKeyRequestStore
	ScimStore
	LifecycleStore
	MailStore
	WebhookStore
	VaultStore
	SignInStore
	PasskeyStore
	LeakStore
	PlatformStore
	LeaseStore
	Close() error
}

// WorkspaceStore keeps workspaces and their members.
type WorkspaceStore interface {
	// Initialized reports whether any workspace or operator exists.
	Initialized(ctx context.Context) (bool, error)
	// CreateWorkspace inserts ws and makes owner its owner, inserting the
	// user first when no user has that id yet.
	CreateWorkspace(ctx context.Context, ws *Workspace, owner *User, ev Event) error
	// Workspace returns one workspace with its settings; ENOTFOUND if none.
	Workspace(ctx context.Context, id string) (*Workspace, error)
	// Workspaces lists every workspace, oldest first.
	Workspaces(ctx context.Context) ([]*Workspace, error)
	// UpdateSettings applies fn to the workspace's settings in a transaction;
	// fn returns the event to record, or an error to change nothing.
	UpdateSettings(ctx context.Context, workspaceID string, fn func(*Settings) (*Event, error)) (*Settings, error)
	// Member returns one membership; ENOTFOUND if the user is not a member.
	Member(ctx context.Context, workspaceID, userID string) (*Member, error)
	// Members lists a workspace's members, oldest first.
	Members(ctx context.Context, workspaceID string) ([]*Member, error)
	// AddMember makes an existing user a member; ECONFLICT if they already
	// are, ENOTFOUND if the user or workspace does not exist.
	AddMember(ctx context.Context, m *Member, ev Event) error
	// InviteMember inserts u (a new, unclaimed identity), makes it the
	// member m and stores inv for it, with ev, all or nothing. ECONFLICT
	// (detail field "email") when the workspace already has a member, claimed
	// or invited, with u's email; ENOTFOUND if the workspace does not exist.
	InviteMember(ctx context.Context, u *User, m *Member, inv *Invite, ev Event) error
	// UpdateMember applies fn (role, active) to a membership in a
	// transaction, like UpdateKey. It refuses with ECONFLICT a change that
	// would leave the workspace without an active owner.
	UpdateMember(ctx context.Context, workspaceID, userID string, fn func(*Member) (*Event, error)) (*Member, error)
	// RemoveMember deletes a membership, the member's pending invites to
	// the workspace, and revokes in the same transaction the member's
	// personal keys and the management keys they created there, so that no
	// later re-admission brings them back. fn sees the membership and the
	// keys to revoke as stored, inside the transaction, and returns the
	// events to record (the removal's and one per key, whose Target is the
	// key id) or an error to change nothing; revoked keys get RevokedAt and
	// RevokedBy from the key event's time and actor. It returns the revoked
	// keys. ENOTFOUND if absent, ECONFLICT if it is the last active owner.
	RemoveMember(ctx context.Context, workspaceID, userID string, fn func(m *Member, keys []*Key) ([]Event, error)) ([]*Key, error)
}

// UserStore keeps user accounts.
type UserStore interface {
	// CreateUser inserts u; ECONFLICT when the email is taken.
	CreateUser(ctx context.Context, u *User, ev *Event) error
	User(ctx context.Context, id string) (*User, error)
	// UserByEmail finds the claimed account with a normalized email;
	// ENOTFOUND if none (unclaimed identities are never found by email).
	UserByEmail(ctx context.Context, email string) (*User, error)
	// Memberships lists the workspaces a user belongs to.
	Memberships(ctx context.Context, userID string) ([]*Member, error)
	// UpdateUser applies fn to a user in a transaction (name, password
	// hash); ECONFLICT if it changes the email to one that is taken. A
	// user given a password is claimed.
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (*User, error)
	// CreateInvite stores a one-time invite for an unclaimed member;
	// ECONFLICT if the user is claimed.
	CreateInvite(ctx context.Context, inv *Invite) error
	// InviteOf returns the unexpired invite with hash and its identity;
	// ENOTFOUND if missing, used or expired. It changes nothing.
	InviteOf(ctx context.Context, hash [32]byte, now time.Time) (*Invite, *User, error)
	// AcceptInvite consumes an unexpired invite in one transaction and
	// returns the account that now holds the membership; see InviteClaim.
	// ENOTFOUND if the invite is missing, used or expired.
	AcceptInvite(ctx context.Context, hash [32]byte, now time.Time, c InviteClaim) (*User, error)
}

// InviteClaim says how an invitation is accepted: by an account signed in
// as its holder (AccountID: the invitation's identity is merged into that
// account, whose email must be the invitation's, and the account's
// memberships, keys and password stay its own), or with a new password
// (PasswordHash: the identity becomes a claimed account, which fails with
// ECONFLICT detail "reason" "sign_in_required" when a claimed account with
// the address exists). Event builds the event recorded in the invitation's
// workspace once the account is known.
type InviteClaim struct {
	AccountID    string
	PasswordHash string
	Event        func(account *User, workspaceID string) Event
}

// Invite lets a new user choose their password once, through a link whose
// token only the store's SHA-256 of it is kept of.
type Invite struct {
	Hash        [32]byte
	UserID      string
	WorkspaceID string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// KeyStore keeps API keys.
type KeyStore interface {
	// CreateKey inserts k; ECONFLICT if its id or hash exists.
	CreateKey(ctx context.Context, k *Key, ev Event) error
	// Key returns a key of the workspace; ENOTFOUND if absent or in another workspace.
	Key(ctx context.Context, workspaceID, id string) (*Key, error)
	// Keys lists keys matching f, newest first, and the cursor of the next page ("" at the end).
	Keys(ctx context.Context, f KeyFilter) ([]*Key, string, error)
	// UpdateKey loads the key, applies fn and stores the result in one
	// transaction. fn returns the event to record, or an error to change
	// nothing; a nil event means nothing changed. fn must not call the
	// store's write methods (SQLite has a single writer).
	UpdateKey(ctx context.Context, workspaceID, id string, fn func(*Key) (*Event, error)) (*Key, error)
	// DeleteKey removes the key; ENOTFOUND if absent.
	DeleteKey(ctx context.Context, workspaceID, id string, ev Event) error
	// CountKeys counts the keys of a workspace, revoked and expired ones
	// included, owned by owner (OwnerWorkspace or a user id) or by anyone
	// when owner is "".
	CountKeys(ctx context.Context, workspaceID, owner string) (int, error)
	// KeyByHash finds the key whose current or previous secret hashes to h,
	// with OwnerActive derived; ENOTFOUND if none. It does not judge the
	// grace period of a previous secret: the caller compares h with k.Hash
	// and checks PreviousExpiresAt against its own clock.
	KeyByHash(ctx context.Context, h [32]byte) (*Key, error)
	// KeyForVerify is KeyByHash for the verify path: it reads only what a
	// verification decides on, leaving Description, CallbackURL,
	// CreatedBy, CreatedAt, LastUsedAt, Start, RevokedBy and DisabledBy
	// zero, because each column read costs every cold verification.
	KeyForVerify(ctx context.Context, h [32]byte) (*Key, error)
	// KeyHashes pages through the secret hashes of every key, revoked and
	// expired ones included, in id order: at most limit keys whose id
	// sorts after after ("" from the first). The verifier loads its
	// membership set from it, so that an unknown token never reaches the
	// store. The last page is shorter than limit.
	KeyHashes(ctx context.Context, after string, limit int) ([]KeyHash, error)
}

// KeyHash is a key's current secret hash and, until its next reset, the
// previous one (nil when the key was never reset).
type KeyHash struct {
	ID       string
	Hash     [32]byte
	Previous *[32]byte
}

// KeyFilter selects keys of one workspace.
type KeyFilter struct {
	WorkspaceID string
	Status      Status // "" for any
	Type        string
	Environment Environment
	Owner       string // OwnerWorkspace, a user id, or "" for any
	Query       string // case-insensitive substring of the name
	ExternalID  string // the product's id for the key's customer, exactly; "" for any
	Limit       int
	Cursor      string
	// Now and Windows (the workspace's expiry notice windows) decide the
	// derived status filter, as Key.Status with Key.NoticeWindow does.
	Now     time.Time
	Windows []Duration
}

// EventStore keeps the audit log, one hash chain per workspace (see
// ChainHash): every method that records an event links it to its
// workspace's chain in the same transaction, and writers of one workspace
// take their turns, on any number of instances.
type EventStore interface {
	AppendEvent(ctx context.Context, ev Event) error
	// Events lists events matching f, newest first, with the next cursor.
	// An empty WorkspaceID lists platform events only, never every workspace's.
	Events(ctx context.Context, f EventFilter) ([]*Event, string, error)
	// EachEvent calls fn with every event of f.WorkspaceID that matches
	// f (its Cursor and Limit aside) in chain order, then any unsealed
	// ones by id, reading as it goes; fn's error stops it and is returned.
	EachEvent(ctx context.Context, f EventFilter, fn func(*Event) error) error
	// ChainHead returns the head of a workspace's chain ("" for the
	// platform's); an empty chain has Seq 0 and a zero hash.
	ChainHead(ctx context.Context, workspaceID string) (ChainHead, error)
	// ChainHeads lists the head of every chain that has events.
	ChainHeads(ctx context.Context) ([]ChainHead, error)
	// SealEvents links the events an earlier release stored without a
	// chain, oldest first, into each chain that is still empty, and
	// returns how many it linked; once a chain has begun, unlinked events
	// stay so, for an audit to report.
	SealEvents(ctx context.Context) (int, error)
}

// SessionStore keeps console sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// Session returns an unexpired session; ENOTFOUND otherwise.
	Session(ctx context.Context, hash [32]byte, now time.Time) (*Session, error)
	DeleteSession(ctx context.Context, hash [32]byte) error
	DeleteUserSessions(ctx context.Context, userID string) error
}

// LastUsedStep is how far a key's last_used_at may lag its latest use.
const LastUsedStep = time.Minute

// UsageStore keeps daily verification counters, written in batches.
type UsageStore interface {
	// AddUsage appends the counts of a batch to the usage log. Usage and
	// UsageTags count them at once; FoldUsage adds them to the daily
	// counters and last_used_at.
	AddUsage(ctx context.Context, batch []Usage) error
	// FoldUsage folds the log's entries of the first limit keys after the
	// key id after ("" for the first keys) into the daily counters and
	// advances last_used_at, to the minute: a use less than LastUsedStep
	// after the stored one is not written. It returns the last key id it
	// folded, the after of the next call; "" when none was left. Each
	// entry is folded once, however many instances fold at a time.
	FoldUsage(ctx context.Context, after string, limit int) (string, error)
	// Usage returns a key's daily counts in [from, to], oldest first; empty
	// for a deleted key or another workspace's key (counts outlive keys for billing).
	Usage(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]UsageDay, error)
	// UsageTags returns a key's daily counts per verify tag in [from, to],
	// by day then tag; empty as Usage is.
	UsageTags(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]UsageTag, error)
}

// OutcomeValid names the valid verifications in usage by outcome; a
// refusal is named by its VerifyCode.
const OutcomeValid = "valid"

// MaxUsageTags is how many distinct tags a key's usage keeps per day;
// verifications carrying any further tag are counted under UsageTagOther,
// so that callers sending random tags cannot grow the counters unbounded.
const MaxUsageTags = 100

// UsageTagOther is the tag under which tags beyond MaxUsageTags are counted.
const UsageTagOther = "(other)"

// Usage is a batch entry: counts to add for one key, day and environment.
type Usage struct {
	WorkspaceID string
	KeyID       string
	Day         time.Time // UTC midnight
	Environment Environment
	Valid       int64
	Denied      int64
	// Outcomes breaks Valid and Denied down by outcome (OutcomeValid or a
	// refusal's VerifyCode); nil adds to the totals only.
	Outcomes map[string]int64
	// Tags counts the verifications carrying each tag; the store keeps
	// at most MaxUsageTags per key and day.
	Tags       map[string]TagCount
	LastUsedAt time.Time // zero when there was no valid use
}

// TagCount is how many verifications carried a tag, and how many of
// them were valid.
type TagCount struct {
	Verifications int64 `json:"verifications"`
	Valid         int64 `json:"valid"`
}

// UsageDay is one day of a key's usage.
type UsageDay struct {
	Day         string      `json:"day"` // YYYY-MM-DD
	Environment Environment `json:"environment"`
	Valid       int64       `json:"valid"`
	Denied      int64       `json:"denied"`
	// Outcomes counts the day's verifications by outcome (never nil);
	// days counted before outcomes were kept carry only "valid".
	Outcomes map[string]int64 `json:"outcomes"`
}

// UsageTag is one day's count of a key's verifications carrying a tag.
type UsageTag struct {
	Day string `json:"day"` // YYYY-MM-DD
	Tag string `json:"tag"`
	TagCount
}

// ScimKeyRequest is a workspace admin's request that the vendor's support
// team issue a SCIM key, where the workspace's policy reserves that to
// operators. An operator approves it and never sees a secret; the key is
// created when one of the workspace's admins picks it up, the secret shown
// to them once (Issued* then say who and when).
type ScimKeyRequest struct {
	ID           string     `json:"id"`
	WorkspaceID  string     `json:"workspace_id"`
	ContactEmail string     `json:"contact_email"`
	Integration  string     `json:"integration"` // okta, entra or generic
	RequestedBy  string     `json:"requested_by"`
	CreatedAt    time.Time  `json:"created_at"`
	ApprovedBy   string     `json:"approved_by,omitempty"` // the operator
	ApprovedAt   *time.Time `json:"approved_at"`
	KeyID        string     `json:"key_id,omitempty"` // set once picked up
	IssuedBy     string     `json:"issued_by,omitempty"`
	IssuedAt     *time.Time `json:"issued_at"`
}

// MarshalJSON adds the request's state to its fields.
func (r ScimKeyRequest) MarshalJSON() ([]byte, error) {
	type plain ScimKeyRequest
	return json.Marshal(struct {
		plain
		State string `json:"state"`
	}{plain(r), r.State()})
}

// State is where the request stands: "open" (waiting for an operator),
// "approved" (waiting to be picked up) or "picked_up".
func (r *ScimKeyRequest) State() string {
	switch {
	case r.IssuedAt != nil:
		return "picked_up"
	case r.ApprovedAt != nil:
		return "approved"
	}
	return "open"
}

// ScimKeyRequestStore keeps SCIM key requests.
type ScimKeyRequestStore interface {
	CreateScimKeyRequest(ctx context.Context, r *ScimKeyRequest, ev Event) error
	// ScimKeyRequest returns one request; ENOTFOUND if none.
	ScimKeyRequest(ctx context.Context, id string) (*ScimKeyRequest, error)
	// ScimKeyRequests lists requests, newest first: of one workspace, or of
	// all when workspaceID is ""; only those not yet approved when open is
	// true.
	ScimKeyRequests(ctx context.Context, workspaceID string, open bool) ([]*ScimKeyRequest, error)
	// ApproveScimKeyRequest marks the request approved by approvedBy at at
	// and records ev, in one transaction, and returns it; ENOTFOUND if
	// there is no such request, ECONFLICT if it was approved already.
	ApproveScimKeyRequest(ctx context.Context, requestID, approvedBy string, at time.Time, ev Event) (*ScimKeyRequest, error)
	// IssueScimKey creates k and marks the approved request issued (picked
	// up) with it, in one transaction; ECONFLICT if the request is not
	// approved or was already issued.
	IssueScimKey(ctx context.Context, requestID string, k *Key, issuedBy string, ev Event) error
}

// ScimStore keeps what identity providers provision over SCIM: per
// membership SCIM attributes of users, and groups. Writes record their
// events in the same transaction; uniqueness violations are ECONFLICT with
// the detail "scim_type" "uniqueness". Deprovisioning flips members.active
// in the same transaction as the attributes, so a PATCH is all or nothing.
type ScimStore interface {
	// ScimUser returns a provisioned user of the workspace; ENOTFOUND if
	// the user has no SCIM record there (or is not a member).
	ScimUser(ctx context.Context, workspaceID, userID string) (*ScimUser, error)
	// ScimUsers returns a page of the users matching q and how many match.
	ScimUsers(ctx context.Context, q ScimQuery) ([]*ScimUser, int, error)
	// CreateScimUser stores u's SCIM record. It inserts newUser first when
	// not nil, and makes the user a member (role member, active u.Active)
	// unless they are one; an existing membership takes u.Active (with the
	// last-owner rule). fn is called inside the transaction with the
	// membership as it was (nil if none) and returns the events to record.
	// ECONFLICT when the workspace has a SCIM user with that userName
	// (case-insensitively) or the user already has a SCIM record there, or
	// newUser's email is taken.
	CreateScimUser(ctx context.Context, u *ScimUser, newUser *User, fn func(prev *Member) ([]Event, error)) error
	// UpdateScimUser loads the record, applies fn and stores the result and
	// fn's events in one transaction; fn's error changes nothing, and so
	// does no event. The membership takes u.Active (ECONFLICT for the last
	// active owner). The user's login email and name follow u.Email and
	// u.Name only when this workspace is their only one and the email is
	// free: a person in several workspaces keeps their own. fn must not
	// call the store's write methods.
	UpdateScimUser(ctx context.Context, workspaceID, userID string, fn func(u *ScimUser) ([]Event, error)) (*ScimUser, error)
	// ScimExtensionAttrs lists the custom extension attributes stored in the workspace.
	ScimExtensionAttrs(ctx context.Context, workspaceID string) ([]ScimExtensionAttr, error)

	// ScimGroup returns one group with its members; ENOTFOUND if none.
	ScimGroup(ctx context.Context, workspaceID, id string) (*ScimGroup, error)
	// ScimGroups returns a page of the groups matching q and how many match.
	ScimGroups(ctx context.Context, q ScimQuery) ([]*ScimGroup, int, error)
	// CreateScimGroup stores g; ECONFLICT (uniqueness) when the workspace
	// has a group of that displayName (case-insensitively), EINVALID
	// (detail "members") when a member is not a SCIM user of the workspace.
	CreateScimGroup(ctx context.Context, g *ScimGroup, ev Event) error
	// UpdateScimGroup applies fn like UpdateScimUser, with CreateScimGroup's errors.
	UpdateScimGroup(ctx context.Context, workspaceID, id string, fn func(g *ScimGroup) (*Event, error)) (*ScimGroup, error)
	// DeleteScimGroup removes a group; ENOTFOUND if none.
	DeleteScimGroup(ctx context.Context, workspaceID, id string, ev Event) error
}

// VaultStore keeps vaults and their secrets, sealed: the store never sees
// a value in clear. Every write records its event in the same transaction.
type VaultStore interface {
	// CreateVault inserts v; ECONFLICT (detail field "name") when the
	// workspace has a vault of that name.
	CreateVault(ctx context.Context, v *Vault, ev Event) error
	// Vault returns a vault of the workspace; ENOTFOUND if absent or in another.
	Vault(ctx context.Context, workspaceID, id string) (*Vault, error)
	// Vaults lists a workspace's vaults by name.
	Vaults(ctx context.Context, workspaceID string) ([]*Vault, error)
	// DeleteVault removes a vault and its secrets; ENOTFOUND if absent.
	DeleteVault(ctx context.Context, workspaceID, id string, ev Event) error
	// CreateSecret inserts sec; ECONFLICT (detail field "name") when its
	// vault has a secret of that name, or (detail field "key_id") when
	// the key already has a secret; ENOTFOUND when the vault or the key
	// is not in the workspace.
	CreateSecret(ctx context.Context, sec *VaultSecret, ev Event) error
	// VaultSecret returns a secret of a vault, sealed value included;
	// ENOTFOUND if absent or elsewhere.
	VaultSecret(ctx context.Context, workspaceID, vaultID, id string) (*VaultSecret, error)
	// VaultSecrets lists a vault's secrets by name, sealed values included.
	VaultSecrets(ctx context.Context, workspaceID, vaultID string) ([]*VaultSecret, error)
	// KeySecret returns the secret saved from a key; ENOTFOUND if none.
	KeySecret(ctx context.Context, workspaceID, keyID string) (*VaultSecret, error)
	// ReplaceSecret stores a new sealed value for a secret; ENOTFOUND if absent.
	ReplaceSecret(ctx context.Context, workspaceID, id string, sealed Sealed, at time.Time, ev Event) error
	// DeleteSecret removes a secret; ENOTFOUND if absent.
	DeleteSecret(ctx context.Context, workspaceID, vaultID, id string, ev Event) error
	// SecretsNotWrappedBy lists up to limit secrets whose data key another
	// keeper than keeperID wraps, for a rotation.
	SecretsNotWrappedBy(ctx context.Context, keeperID string, limit int) ([]SealedRef, error)
	// RewrapSecret stores next for a secret whose sealed value is still
	// prev, in its own transaction, and reports whether it was (a value
	// replaced meanwhile is left alone).
	RewrapSecret(ctx context.Context, id string, prev, next Sealed) (bool, error)
	// VaultKeepers lists the recorded keepers, the current one first.
	VaultKeepers(ctx context.Context) ([]VaultKeeper, error)
	// ActivateVaultKeeper records k (inserting it or updating its URL and
	// activation time) so that it becomes the current keeper.
	ActivateVaultKeeper(ctx context.Context, k VaultKeeper) error
}
