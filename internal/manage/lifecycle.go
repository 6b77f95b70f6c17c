package manage

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/token"
)

// UpdateKey is a PATCH of a key: nil fields stay as they are.
type UpdateKey struct {
	Name        *string        `json:"name"`
	Description *string        `json:"description"`
	CallbackURL *string        `json:"callback_url"`
	Scopes      *[]string      `json:"scopes"`
	Settings    map[string]any `json:"settings"` // merged into the current settings
	// RateLimit sets a limit; ClearRateLimit removes it (JSON null cannot
	// be told from absence in Go without this).
	RateLimit      *latchkey.RateLimit `json:"rate_limit"`
	ClearRateLimit bool                `json:"-"`
	// AllowedIPs replaces the key's allowlist; [] removes it (a widening).
	AllowedIPs *[]string `json:"allowed_ips"`
	// ExternalID replaces the product's id for the key's customer; ""
	// removes it.
	ExternalID *string `json:"external_id"`
	// Meta replaces the key's metadata; {} or null removes it.
	Meta json.RawMessage `json:"meta"`
	// Credits sets the key's credits again, voiding what instances
	// leased; ClearCredits makes the key unlimited.
	Credits      *latchkey.CreditsInput `json:"credits"`
	ClearCredits bool                   `json:"-"`
	// RateLimits replaces the key's named limits; [] removes them. A
	// change starts every window afresh.
	RateLimits *[]latchkey.NamedLimit `json:"ratelimits"`
}

// UpdateKey edits a key's name, description, callback URL, scopes, settings,
// rate limit, allowlist, external id or metadata. A revoked key cannot change.
func (s *Service) UpdateKey(ctx context.Context, p latchkey.Principal, ws, keyID string, in UpdateKey) (*latchkey.Key, error) {
	cur, err := s.authorizedKey(ctx, p, ws, keyID, latchkey.ActKeyUpdate)
	if err != nil {
		return nil, err
	}
	if in.Settings, err = s.takeShared(ctx, p, ws, cur.Type, in.Settings); err != nil {
		return nil, err
	}
	k, err := s.store.UpdateKey(ctx, ws, keyID, func(k *latchkey.Key) (*latchkey.Event, error) {
		if k.RevokedAt != nil {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "a revoked key cannot be changed")
		}
		kt, ok := s.catalog.Type(k.Type)
		if !ok {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "the key's type %q is no longer in the catalog", k.Type)
		}
		before := *k
		before.Scopes, before.Settings = slices.Clone(k.Scopes), maps.Clone(k.Settings)
		var changed []string
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if err := latchkey.ValidateKeyName(name); err != nil {
				return nil, err
			}
			if name != k.Name {
				k.Name, changed = name, append(changed, "name")
			}
		}
		if in.Description != nil {
			if err := latchkey.ValidateDescription(*in.Description); err != nil {
				return nil, err
			}
			if *in.Description != k.Description {
				k.Description, changed = *in.Description, append(changed, "description")
			}
		}
		if in.CallbackURL != nil {
			if err := latchkey.ValidateCallbackURL(*in.CallbackURL); err != nil {
				return nil, err
			}
			if *in.CallbackURL != k.CallbackURL {
				k.CallbackURL, changed = *in.CallbackURL, append(changed, "callback_url")
			}
		}
		if in.Scopes != nil {
			scopes, err := kt.ValidateScopes(*in.Scopes)
			if err != nil {
				return nil, err
			}
			if !slices.Equal(scopes, k.Scopes) {
				k.Scopes, changed = scopes, append(changed, "scopes")
			}
		}
		if in.Settings != nil {
			merged := maps.Clone(k.Settings)
			if merged == nil {
				merged = map[string]any{}
			}
			maps.Copy(merged, in.Settings)
			settings, err := kt.ValidateSettings(merged)
			if err != nil {
				return nil, err
			}
			if !maps.EqualFunc(settings, k.Settings, func(a, b any) bool { return a == b }) {
				k.Settings, changed = settings, append(changed, "settings")
			}
		}
		switch {
		case in.ClearRateLimit && k.RateLimit != nil:
			k.RateLimit, changed = nil, append(changed, "rate_limit")
		case in.RateLimit != nil:
			if err := latchkey.ValidateRateLimit(in.RateLimit); err != nil {
				return nil, err
			}
			if k.RateLimit == nil || *k.RateLimit != *in.RateLimit {
				k.RateLimit, changed = in.RateLimit, append(changed, "rate_limit")
			}
		}
		if in.AllowedIPs != nil {
			allowed, err := latchkey.ParseAllowedIPs(*in.AllowedIPs)
			if err != nil {
				return nil, err
			}
			if !slices.Equal(allowed, k.AllowedIPs) {
				k.AllowedIPs, changed = allowed, append(changed, "allowed_ips")
			}
		}
		if in.ExternalID != nil {
			if err := latchkey.ValidateKeyExternalID(*in.ExternalID); err != nil {
				return nil, err
			}
			if *in.ExternalID != k.ExternalID {
				k.ExternalID, changed = *in.ExternalID, append(changed, "external_id")
			}
		}
		if in.Meta != nil {
			meta, err := latchkey.ParseMeta(in.Meta)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(meta, k.Meta) {
				k.Meta, changed = meta, append(changed, "meta")
			}
		}
		switch {
		case in.ClearCredits && k.Credits != nil:
			k.Credits, changed = nil, append(changed, "credits")
		case in.Credits != nil:
			c, err := in.Credits.Credits(s.Now())
			if err != nil {
				return nil, err
			}
			k.Credits, changed = c, append(changed, "credits")
		}
		if in.RateLimits != nil {
			if err := latchkey.ValidateRateLimits(*in.RateLimits); err != nil {
				return nil, err
			}
			if !slices.Equal(*in.RateLimits, k.RateLimits) {
				k.RateLimits, changed = *in.RateLimits, append(changed, "ratelimits")
			}
		}
		if len(changed) == 0 {
			return nil, nil
		}
		// Judged on the key as this transaction read it, not as it was
		// before: a concurrent change cannot slip a widening through.
		if err := s.keyCheck(ctx, p, ws, &before, k, latchkey.OpEdit, 0); err != nil {
			return nil, err
		}
		ev := s.event(p, ws, latchkey.EventKeyUpdated, k.ID, map[string]any{"changed": changed})
		return &ev, nil
	})
	if err != nil {
		return nil, err
	}
	s.invalidateKey(keyID)
	return k, s.showShared(ctx, ws, k)
}

// RevokeKey revokes a key permanently. Revoking a revoked key changes
// nothing and succeeds, so retries are safe.
func (s *Service) RevokeKey(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error) {
	if _, err := s.authorizedKey(ctx, p, ws, keyID, latchkey.ActKeyRevoke); err != nil {
		return nil, err
	}
	k, err := s.store.UpdateKey(ctx, ws, keyID, func(k *latchkey.Key) (*latchkey.Event, error) {
		if k.RevokedAt != nil {
			return nil, nil
		}
		now := s.Now()
		// The previous secret of a reset stays known, so that it too
		// answers key_revoked rather than key_invalid.
		k.RevokedAt, k.RevokedBy = &now, p.Actor().ID
		ev := s.event(p, ws, latchkey.EventKeyRevoked, k.ID, map[string]any{"name": k.Name})
		return &ev, nil
	})
	if err != nil {
		return nil, err
	}
	s.invalidateKey(keyID)
	return k, s.showShared(ctx, ws, k)
}

// ResetKey gives a key a new secret, keeping its id and settings. The old
// secret stops at once, or after grace (at most seven days).
func (s *Service) ResetKey(ctx context.Context, p latchkey.Principal, ws, keyID string, grace time.Duration) (*latchkey.Key, string, error) {
	return s.ResetKeyInto(ctx, p, ws, keyID, grace, nil)
}

// ResetKeyInto resets a key like ResetKey and keeps its new secret in a
// vault: the one of save, or the one already holding the key's secret.
func (s *Service) ResetKeyInto(ctx context.Context, p latchkey.Principal, ws, keyID string, grace time.Duration, save *SaveToVault) (*latchkey.Key, string, error) {
	if grace < 0 || grace > latchkey.MaxGracePeriod {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "grace_period must be between 0s and 7d").WithDetail("field", "grace_period")
	}
	if _, err := s.authorizedKey(ctx, p, ws, keyID, latchkey.ActKeyReset); err != nil {
		return nil, "", err
	}
	var saveTo *latchkey.Vault
	if save != nil {
		var err error
		if saveTo, _, err = s.keyVault(ctx, p, ws, save); err != nil {
			return nil, "", err
		}
	}
	var secret string
	k, err := s.store.UpdateKey(ctx, ws, keyID, func(k *latchkey.Key) (*latchkey.Event, error) {
		if k.RevokedAt != nil {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "a revoked key cannot be reset; create a new key")
		}
		// A new secret is obtaining the key's whole power (a second one
		// with a grace period), judged inside the transaction.
		if err := s.keyCheck(ctx, p, ws, k, k, latchkey.OpObtain, grace); err != nil {
			return nil, err
		}
		var start string
		var err error
		secret, start, err = s.format.New(s.rand, k.Environment)
		if err != nil {
			return nil, err
		}
		now := s.Now()
		if grace > 0 {
			old, until := k.Hash, now.Add(grace)
			k.PreviousHash, k.PreviousExpiresAt = &old, &until
		} else {
			k.PreviousHash, k.PreviousExpiresAt = nil, nil
		}
		k.Hash, k.Start = token.Hash(secret), start
		ev := s.event(p, ws, latchkey.EventKeyReset, k.ID, map[string]any{"grace_period": latchkey.Duration(grace).String()})
		return &ev, nil
	})
	if err != nil {
		return nil, "", err
	}
	s.invalidateKey(keyID)
	if err := s.replaceKeySecret(ctx, p, k, secret, saveTo); err != nil {
		return nil, "", err
	}
	return k, secret, s.showShared(ctx, ws, k)
}

// DeleteKey removes a key for good; its events stay.
func (s *Service) DeleteKey(ctx context.Context, p latchkey.Principal, ws, keyID string) error {
	k, err := s.authorizedKey(ctx, p, ws, keyID, latchkey.ActKeyDelete)
	if err != nil {
		return err
	}
	ev := s.event(p, ws, latchkey.EventKeyDeleted, k.ID, map[string]any{"name": k.Name})
	if err := s.store.DeleteKey(ctx, ws, keyID, ev); err != nil {
		return err
	}
	s.invalidateKey(keyID)
	return nil
}

// KeyUsage returns a key's daily usage between from and to (at most 366 days).
func (s *Service) KeyUsage(ctx context.Context, p latchkey.Principal, ws, keyID string, from, to time.Time) ([]latchkey.UsageDay, error) {
	if err := s.usageAllowed(ctx, p, ws, keyID, from, to); err != nil {
		return nil, err
	}
	return s.store.Usage(ctx, ws, keyID, from, to)
}

// KeyUsageTags returns a key's daily usage per verify tag between from and
// to (at most 366 days).
func (s *Service) KeyUsageTags(ctx context.Context, p latchkey.Principal, ws, keyID string, from, to time.Time) ([]latchkey.UsageTag, error) {
	if err := s.usageAllowed(ctx, p, ws, keyID, from, to); err != nil {
		return nil, err
	}
	return s.store.UsageTags(ctx, ws, keyID, from, to)
}

// usageAllowed checks that p may read the key (ENOTFOUND for another
// workspace's key, as for the key itself) and that the range is sane.
func (s *Service) usageAllowed(ctx context.Context, p latchkey.Principal, ws, keyID string, from, to time.Time) error {
	if _, err := s.authorizedKey(ctx, p, ws, keyID, latchkey.ActKeysRead); err != nil {
		return err
	}
	if to.Before(from) || to.Sub(from) > 366*latchkey.Day {
		return latchkey.Errorf(latchkey.EINVALID, "from must be before to, at most 366 days apart").WithDetail("field", "from")
	}
	return nil
}
