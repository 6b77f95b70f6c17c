package manage

import (
	"context"
	"slices"

	"github.com/latchkey/latchkey"
)

// SettingsPatch changes some of a workspace's settings; nil fields stay.
type SettingsPatch struct {
	Expiration                   *ExpirationPatch     `json:"expiration"`
	ScimCustomAttributes         *bool                `json:"scim_custom_attributes"`
	ScimKeyIssuance              *string              `json:"scim_key_issuance"`
	MembersMayCreatePersonalKeys *bool                `json:"members_may_create_personal_keys"`
	RequireSecondFactor          *bool                `json:"require_second_factor"`
	OnLeak                       *latchkey.LeakPolicy `json:"on_leak"`
}

// ExpirationPatch changes some of the expiration policy.
type ExpirationPatch struct {
	Presets           *[]string            `json:"presets"`
	MaxLifetime       *latchkey.Duration   `json:"max_lifetime"`
	AllowNeverExpire  *bool                `json:"allow_never_expire"`
	NoticeBefore      *[]latchkey.Duration `json:"notice_before"`
	DeleteAfterExpiry *latchkey.Duration   `json:"delete_after_expiry"`
	RevokedRetention  *latchkey.Duration   `json:"revoked_retention"`
}

// UpdateSettings applies a patch to ws's settings, validates the result as
// a whole and records which fields changed.
func (s *Service) UpdateSettings(ctx context.Context, p latchkey.Principal, ws string, in SettingsPatch) (*latchkey.Settings, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActSettingsWrite); err != nil {
		return nil, err
	}
	return s.store.UpdateSettings(ctx, ws, func(st *latchkey.Settings) (*latchkey.Event, error) {
		before := *st
		before.Expiration.Presets = slices.Clone(st.Expiration.Presets)
		before.Expiration.NoticeBefore = slices.Clone(st.Expiration.NoticeBefore)
		if e := in.Expiration; e != nil {
			apply(&st.Expiration.Presets, e.Presets)
			apply(&st.Expiration.MaxLifetime, e.MaxLifetime)
			apply(&st.Expiration.AllowNeverExpire, e.AllowNeverExpire)
			apply(&st.Expiration.NoticeBefore, e.NoticeBefore)
			apply(&st.Expiration.DeleteAfterExpiry, e.DeleteAfterExpiry)
			apply(&st.Expiration.RevokedRetention, e.RevokedRetention)
		}
		apply(&st.ScimCustomAttributes, in.ScimCustomAttributes)
		apply(&st.ScimKeyIssuance, in.ScimKeyIssuance)
		apply(&st.MembersMayCreatePersonalKeys, in.MembersMayCreatePersonalKeys)
		apply(&st.RequireSecondFactor, in.RequireSecondFactor)
		apply(&st.OnLeak, in.OnLeak)
		if st.Expiration.Presets == nil {
			st.Expiration.Presets = []string{}
		}
		if st.Expiration.NoticeBefore == nil {
			st.Expiration.NoticeBefore = []latchkey.Duration{}
		}
		if err := st.Validate(); err != nil {
			return nil, err
		}
		changed := changedSettings(before, *st)
		if len(changed) == 0 {
			return nil, nil
		}
		ev := s.event(p, ws, latchkey.EventSettingsUpdated, ws, map[string]any{"changed": changed, "before": before, "after": *st})
		return &ev, nil
	})
}

// apply sets *dst to *v when the patch has a value.
func apply[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// changedSettings names the fields whose values differ, so the audit log
// records what changed rather than what was sent (a form sends everything).
func changedSettings(a, b latchkey.Settings) []string {
	ea, eb := a.Expiration, b.Expiration
	fields := []struct {
		name string
		same bool
	}{
		{"expiration.presets", slices.Equal(ea.Presets, eb.Presets)},
		{"expiration.max_lifetime", ea.MaxLifetime == eb.MaxLifetime},
		{"expiration.allow_never_expire", ea.AllowNeverExpire == eb.AllowNeverExpire},
		{"expiration.notice_before", slices.Equal(ea.NoticeBefore, eb.NoticeBefore)},
		{"expiration.delete_after_expiry", ea.DeleteAfterExpiry == eb.DeleteAfterExpiry},
		{"expiration.revoked_retention", ea.RevokedRetention == eb.RevokedRetention},
		{"scim_custom_attributes", a.ScimCustomAttributes == b.ScimCustomAttributes},
		{"scim_key_issuance", a.ScimKeyIssuance == b.ScimKeyIssuance},
		{"members_may_create_personal_keys", a.MembersMayCreatePersonalKeys == b.MembersMayCreatePersonalKeys},
		{"require_second_factor", a.RequireSecondFactor == b.RequireSecondFactor},
		{"on_leak", a.OnLeak.Revokes() == b.OnLeak.Revokes()},
	}
	var changed []string
	for _, f := range fields {
		if !f.same {
			changed = append(changed, f.name)
		}
	}
	return changed
}
