package console

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// funcs are the helpers templates may call. They format; they never decide
// access (page.Can does, through the domain's table).
var funcs = template.FuncMap{
	"asset":    assetURL,
	"date":     formatDate,
	"datetime": formatDateTime,
	"optdate": func(t *time.Time, none string) string {
		if t == nil {
			return none
		}
		return formatDate(*t)
	},
	"list":         func(s ...string) []string { return s },
	"status":       func(s string) latchkey.Status { return latchkey.Status(s) },
	"deref":        func(t *time.Time) time.Time { return *t },
	"contains":     func(list []string, s string) bool { return slices.Contains(list, s) },
	"join":         strings.Join,
	"permgrid":     permGrid,
	"rateLabel":    rateLabel,
	"creditsLabel": creditsLabel,
	"limitLabel":   limitLabel,
	"statusLabel": func(s latchkey.Status) string {
		return map[latchkey.Status]string{
			latchkey.StatusActive: "Active", latchkey.StatusExpiring: "Expiring",
			latchkey.StatusExpired: "Expired", latchkey.StatusRevoked: "Revoked",
			latchkey.StatusDisabled: "Disabled",
		}[s]
	},
	"envLabel": func(e any) string {
		if fmt.Sprint(e) == string(latchkey.Demo) {
			return "Demo"
		}
		return "Production"
	},
	"roleLabel":   roleLabel,
	"presetLabel": presetLabel,
	// dict builds a map for passing several values to a partial template.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	"settingValue": func(settings map[string]any, name string) any { return settings[name] },
	"isTrue": func(v any) bool {
		switch v := v.(type) {
		case bool:
			return v
		case string:
			return v == "true" || v == "on"
		}
		return false
	},
	"str": func(v any) string {
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	},
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006")
}

func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

func roleLabel(r latchkey.Role) string {
	return map[latchkey.Role]string{
		latchkey.RoleOwner: "Owner", latchkey.RoleSuperAdmin: "Super admin",
		latchkey.RoleAdmin: "Admin", latchkey.RoleMember: "Member",
	}[r]
}

// presetLabel spells an expiration preset for people: "30d" → "30 days".
func presetLabel(p string) string {
	if p == "" {
		return ""
	}
	n, unit := p[:len(p)-1], p[len(p)-1:]
	names := map[string][2]string{
		"h": {"hour", "hours"}, "d": {"day", "days"}, "w": {"week", "weeks"},
		"y": {"year", "years"}, "m": {"minute", "minutes"}, "s": {"second", "seconds"},
	}
	w, ok := names[unit]
	if !ok || strings.ContainsAny(n, "hmsdwy") {
		return p
	}
	if n == "1" {
		return "1 " + w[0]
	}
	return n + " " + w[1]
}
