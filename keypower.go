package latchkey

import (
	"errors"
	"slices"
	"time"
)

// KeyOp is what a principal does to a key that can change what its secret
// opens: make it, edit it (scopes, settings, rate limit), or obtain a new
// secret of it (reset).
type KeyOp int

// Key operations judged by AuthorizeKey.
const (
	OpMake KeyOp = iota + 1
	OpEdit
	OpObtain
)

// KeyChange is one key operation as AuthorizeKey sees it.
type KeyChange struct {
	Op   KeyOp
	Type *KeyType
	// Before is the key as stored (nil for OpMake); After is the key as it
	// would be (OpMake, OpEdit). OpObtain hands out a secret of Before.
	Before, After *Key
	// CreatorRole is the current role of the key's creator in its workspace
	// ("" when none): a management key acts with it. For OpMake the
	// creator is the principal.
	CreatorRole Role
	// Grace is, for OpObtain, how long the replaced secret keeps working:
	// above zero, the holder has two valid secrets for a while.
	Grace time.Duration
}

// KeyPower is what a key's secret lets its holder do.
type KeyPower struct {
	Type  string
	Owner string
	// Scopes are of the key's own type (for a management key, the
	// management API's scopes).
	Scopes    []string
	Settings  map[string]any
	RateLimit *RateLimit // nil: unlimited
	// Credits and RateLimits are the key's budgets (nil: unlimited).
	Credits    *Credits
	RateLimits []NamedLimit
	// AllowedIPs are the networks the key works from (nil: anywhere).
	AllowedIPs []string
	// Role bounds what the key can do: a management key acts with its
	// creator's current role, and a SCIM key can deprovision any member,
	// owners included, so its bound is owner. "" for product keys.
	Role Role
}

// PowerOf returns the power of k, whose creator now holds creatorRole.
func PowerOf(k *Key, creatorRole Role) KeyPower {
	kp := KeyPower{Type: k.Type, Owner: k.Owner, Scopes: k.Scopes, Settings: k.Settings, RateLimit: k.RateLimit, AllowedIPs: k.AllowedIPs,
		Credits: k.Credits, RateLimits: k.RateLimits}
	switch k.Type {
	case TypeManagement:
		kp.Role = creatorRole
	case TypeSCIM:
		kp.Role = RoleOwner
	}
	return kp
}

// Within reports whether a opens nothing b does not: the same type and
// owner, no scope b lacks, no role bound above b's, no setting switched on
// or changed, a rate limit at least as tight (a lower or equal limit
// over a longer or equal period), and no network b's allowlist refuses.
func (a KeyPower) Within(b KeyPower) bool {
	if a.Type != b.Type || a.Owner != b.Owner || RoleRank(a.Role) > RoleRank(b.Role) {
		return false
	}
	if !allowlistWithin(a.AllowedIPs, b.AllowedIPs) {
		return false // dropping or widening an allowlist opens the key to more networks
	}
	for _, s := range a.Scopes {
		if !slices.Contains(b.Scopes, s) {
			return false
		}
	}
	for name, v := range a.Settings {
		old, ok := b.Settings[name]
		if ok && old == v {
			continue
		}
		// Switching a boolean setting off narrows; any other change
		// (a flag on, a different value) may open something new.
		if off, isBool := v.(bool); isBool && !off {
			continue
		}
		return false
	}
	if !creditsWithin(a.Credits, b.Credits) || !limitsWithin(a.RateLimits, b.RateLimits) {
		return false
	}
	switch {
	case a.RateLimit == nil:
		return b.RateLimit == nil
	case b.RateLimit == nil:
		return true
	}
	return a.RateLimit.Limit <= b.RateLimit.Limit && a.RateLimit.Period >= b.RateLimit.Period
}

// creditsWithin: credits that are unchanged, or no more than b's with a
// refill no larger or more frequent, open nothing new; removing them (a
// nil a) does.
func creditsWithin(a, b *Credits) bool {
	switch {
	case b == nil:
		return true
	case a == nil:
		return false
	case *a == *b:
		return true
	case a.Remaining > b.Remaining:
		return false
	case a.Refill == nil:
		return true
	case b.Refill == nil:
		return false
	}
	// Judged per day, the new rule at its most generous (a month of 28
	// days) against the old one at its least (31 days).
	perDay := func(r *Refill, days float64) float64 {
		if r.Interval == RefillDaily {
			return float64(r.Amount)
		}
		return float64(r.Amount) / days
	}
	return perDay(a.Refill, 28) <= perDay(b.Refill, 31)
}

// limitsWithin: every named limit of b stays in a, no looser (a limit no
// higher over a window no shorter); limits a adds only narrow.
func limitsWithin(a, b []NamedLimit) bool {
	for _, old := range b {
		i := slices.IndexFunc(a, func(l NamedLimit) bool { return l.Name == old.Name })
		if i < 0 || a[i].Limit > old.Limit || a[i].Duration < old.Duration {
			return false
		}
	}
	return true
}

// RoleRank orders roles: owner 4, super admin 3, admin 2, member 1, none 0.
func RoleRank(r Role) int {
	switch r {
	case RoleOwner:
		return 4
	case RoleSuperAdmin:
		return 3
	case RoleAdmin:
		return 2
	case RoleMember:
		return 1
	}
	return 0
}

// HoldsScope reports whether p may use the management scope s itself: its
// role grants something the scope opens and, for a management key, the key
// holds s too.
func (p Principal) HoldsScope(s string) bool {
	if p.Kind == PrincipalKey && !slices.Contains(p.Scopes, s) {
		return false
	}
	return (p.Kind == PrincipalUser || p.Kind == PrincipalKey) && RoleAllowsScope(p.Role, s)
}

// AuthorizeKey is the one answer to "may p make, widen or obtain this
// key?", asked by every surface before it creates a key, edits one or hands
// out a new secret. It holds no principal can reach, by any sequence of
// allowed steps, a secret more powerful than itself:
//
//   - making a key (OpMake) needs Holds of the key's power;
//   - editing a key (OpEdit) that stays Within what it was needs only the
//     table's keys.update; widening it (a scope, a setting, a looser or no
//     rate limit) needs Holds of the key as it would be — so a member whose
//     workspace does not let members create personal keys cannot undo an
//     admin's narrowing, and an admin cannot widen an owner's management key;
//   - obtaining a secret (OpObtain, a reset) needs Holds of the key's power,
//     except that the owner of a personal key may replace its secret with no
//     grace period (the old one stops at once: nothing is gained). A grace
//     period is a second live secret, so it needs Holds.
//
// s is the key's workspace's settings (its key policies).
func AuthorizeKey(p Principal, s Settings, c KeyChange) error {
	switch c.Op {
	case OpMake:
		return Holds(p, s, c.Type, PowerOf(c.After, p.Role))
	case OpEdit:
		if err := Authorize(p, ActKeyUpdate, Target{WorkspaceID: c.Before.WorkspaceID, Owner: c.Before.Owner}); err != nil {
			return err
		}
		after := PowerOf(c.After, c.CreatorRole)
		if after.Within(PowerOf(c.Before, c.CreatorRole)) {
			return nil
		}
		if err := Holds(p, s, c.Type, after); err != nil {
			return widening(err, "this change would widen the key beyond what you may create")
		}
		return nil
	case OpObtain:
		if err := Authorize(p, ActKeyReset, Target{WorkspaceID: c.Before.WorkspaceID, Owner: c.Before.Owner}); err != nil {
			return err
		}
		err := Holds(p, s, c.Type, PowerOf(c.Before, c.CreatorRole))
		if err != nil && c.Grace == 0 && c.Before.Personal() && c.Before.Owner == p.UserID {
			return nil
		}
		if err != nil && c.Grace > 0 {
			return widening(err, "a grace period would give you a second live secret").WithDetail("field", "grace_period")
		}
		if err != nil {
			return widening(err, "you may not obtain a secret of this key")
		}
		return nil
	}
	return Errorf(EINTERNAL, "unknown key operation %d", c.Op)
}

// widening prefixes why Holds refused with what was being attempted.
func widening(err error, what string) *Error {
	e := Errorf(EFORBIDDEN, "%s: %s", what, ErrorMessage(err))
	var d *Error
	if errors.As(err, &d) {
		for k, v := range d.Details {
			e.WithDetail(k, v)
		}
	}
	return e
}

// Holds reports (nil) whether p holds all of kp: p may create keys of its
// type for its owner (the table, the personal-key and SCIM issuance
// policies), its role is at least the key's role bound, and it holds every
// management scope the key would have (a management key caller only those
// it has itself). A SCIM key can deprovision owners, which no management
// key may do, so only an owner's own session holds one.
func Holds(p Principal, s Settings, t *KeyType, kp KeyPower) error {
	if err := AuthorizeKeyCreate(p, s, t, kp.Owner); err != nil {
		return err
	}
	if RoleRank(kp.Role) > RoleRank(p.Role) {
		return Errorf(EFORBIDDEN, "this key acts with the role %s, above yours (%s)", kp.Role, p.Role).WithDetail("role", kp.Role)
	}
	if t.Name == TypeManagement {
		var missing []string
		for _, sc := range kp.Scopes {
			if !p.HoldsScope(sc) {
				missing = append(missing, sc)
			}
		}
		if len(missing) > 0 {
			who := "your role (" + string(p.Role) + ")"
			if p.Kind == PrincipalKey {
				who = "the calling key (its scopes and its creator's role)"
			}
			return Errorf(EFORBIDDEN, "%s does not hold the scopes %v, so a key made by you cannot either", who, missing).
				WithDetail("field", "scopes").WithDetail("missing_scopes", missing)
		}
	}
	return nil
}
