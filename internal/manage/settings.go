package manage

import (
	"context"
	"slices"

	"github.com/latchkey/latchkey"
)

// SettingsPatch changes some of a workspace's settings; nil fields stay.
type SettingsPatch struct {
	Expiration                   *ExpirationPatch `json:"expiration"`
	ScimCustomAttributes         *bool            `json:"scim_custom_attributes"`
	ScimKeyIssuance              *string          `json:"scim_key_issuance"`
	MembersMayCreatePersonalKeys *bool            `json:"members_may_create_personal_keys"`
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
		var changed []string
		set := func(name string, apply func()) {
			apply()
			changed = append(changed, name)
		}
		if e := in.Expiration; e != nil {
			if e.Presets != nil {
				set("expiration.presets", func() { st.Expiration.Presets = *e.Presets })
			}
			if e.MaxLifetime != nil {
				set("expiration.max_lifetime", func() { st.Expiration.MaxLifetime = *e.MaxLifetime })
			}
			if e.AllowNeverExpire != nil {
				set("expiration.allow_never_expire", func() { st.Expiration.AllowNeverExpire = *e.AllowNeverExpire })
			}
			if e.NoticeBefore != nil {
				set("expiration.notice_before", func() { st.Expiration.NoticeBefore = *e.NoticeBefore })
			}
			if e.DeleteAfterExpiry != nil {
				set("expiration.delete_after_expiry", func() { st.Expiration.DeleteAfterExpiry = *e.DeleteAfterExpiry })
			}
			if e.RevokedRetention != nil {
				set("expiration.revoked_retention", func() { st.Expiration.RevokedRetention = *e.RevokedRetention })
			}
		}
		if in.ScimCustomAttributes != nil {
			set("scim_custom_attributes", func() { st.ScimCustomAttributes = *in.ScimCustomAttributes })
		}
		if in.ScimKeyIssuance != nil {
			set("scim_key_issuance", func() { st.ScimKeyIssuance = *in.ScimKeyIssuance })
		}
		if in.MembersMayCreatePersonalKeys != nil {
			set("members_may_create_personal_keys", func() { st.MembersMayCreatePersonalKeys = *in.MembersMayCreatePersonalKeys })
		}
		if st.Expiration.Presets == nil {
			st.Expiration.Presets = []string{}
		}
		if st.Expiration.NoticeBefore == nil {
			st.Expiration.NoticeBefore = []latchkey.Duration{}
		}
		if err := st.Validate(); err != nil {
			return nil, err
		}
		if len(changed) == 0 {
			return nil, nil
		}
		ev := s.event(p, ws, latchkey.EventSettingsUpdated, ws, map[string]any{"changed": changed, "before": before, "after": *st})
		return &ev, nil
	})
}
