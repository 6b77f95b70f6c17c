package manage

import (
	"context"
	"maps"

	"github.com/latchkey/latchkey"
)

// ScimSwitch is the workspace setting that every SCIM key shows among its
// settings and can change (Letsignit's "custom attributes" switch): one
// value for the whole workspace, never stored in a key.
const ScimSwitch = "scim_custom_attributes"

// showShared adds the workspace's shared settings to the SCIM keys among
// keys, as they are shown to callers.
func (s *Service) showShared(ctx context.Context, ws string, keys ...*latchkey.Key) error {
	var w *latchkey.Workspace
	for _, k := range keys {
		if k == nil || k.Type != latchkey.TypeSCIM {
			continue
		}
		if w == nil {
			var err error
			if w, err = s.store.Workspace(ctx, ws); err != nil {
				return err
			}
		}
		k.Settings = maps.Clone(k.Settings)
		if k.Settings == nil {
			k.Settings = map[string]any{}
		}
		k.Settings[ScimSwitch] = w.Settings.ScimCustomAttributes
	}
	return nil
}

// takeShared removes the shared switch from settings given for a SCIM key
// and applies it to the workspace, which needs the right to change the
// workspace's settings. It returns the settings left for the key.
func (s *Service) takeShared(ctx context.Context, p latchkey.Principal, ws, keyType string, settings map[string]any) (map[string]any, error) {
	v, ok := settings[ScimSwitch]
	if keyType != latchkey.TypeSCIM || !ok {
		return settings, nil
	}
	on, isBool := v.(bool)
	if !isBool {
		return nil, latchkey.Errorf(latchkey.EINVALID, "setting %s must be true or false", ScimSwitch).WithDetail("field", "settings."+ScimSwitch)
	}
	if _, err := s.UpdateSettings(ctx, p, ws, SettingsPatch{ScimCustomAttributes: &on}); err != nil {
		return nil, err
	}
	rest := maps.Clone(settings)
	delete(rest, ScimSwitch)
	if len(rest) == 0 {
		return nil, nil
	}
	return rest, nil
}
