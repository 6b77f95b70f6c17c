package console

import (
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// The domain's error messages are written for API clients: lowercase,
// terse, naming roles and fields as the API does. The console shows them
// as sentences people read, rewritten here in one place at render time, so
// every page (and every message a future handler passes on) gets the same
// treatment.

var (
	roleMayNot        = regexp.MustCompile(`^your role \(([a-z_ ]+)\) may not do this\.?$`)
	roleOnlyPersonal  = regexp.MustCompile(`^your role \(([a-z_ ]+)\) may create only your own personal keys\.?$`)
	rolePlaceholder   = regexp.MustCompile(`\brole \(([a-z_]+)\)`)
	fieldNameInPrefix = regexp.MustCompile(`^(rate_limit\.limit|rate_limit\.period|expires_in|expires_at|callback_url|allowed_ips|grace_period)\b`)
)

// fieldWords names the API's fields as the console's labels do.
var fieldWords = map[string]string{
	"rate_limit.limit": "The rate limit", "rate_limit.period": "The rate limit's period",
	"expires_in": "The expiration", "expires_at": "The expiry date", "callback_url": "The callback URL",
	"allowed_ips": "The allowed networks", "grace_period": "The grace period",
}

// actionOf is the action a console form performs, for saying which role
// it needs; routes not listed get a message without the role.
func actionOf(r *http.Request) latchkey.Action {
	switch r.Pattern {
	case "POST /w/{ws}/settings", "POST /w/{ws}/settings/webhook-secret", "POST /w/{ws}/scim/attributes":
		return latchkey.ActSettingsWrite
	case "POST /w/{ws}/settings/webhook-secret/reveal":
		return latchkey.ActWebhookSecretRead
	case "POST /w/{ws}/members/{user}/role":
		if latchkey.Role(r.PostFormValue("role")) == latchkey.RoleOwner {
			return latchkey.ActOwnersWrite
		}
		return latchkey.ActMembersWrite
	case "POST /w/{ws}/members", "POST /w/{ws}/members/{user}/remove", "POST /w/{ws}/members/{user}/invite":
		return latchkey.ActMembersWrite
	case "POST /w/{ws}/scim/requests":
		return latchkey.ActScimKeyRequest
	case "POST /w/{ws}/scim/requests/{id}/pickup":
		return latchkey.ActScimKeyPickup
	case "POST /w/{ws}/vaults", "POST /w/{ws}/vaults/{v}/secrets", "POST /w/{ws}/keys/{id}/save-to-vault":
		return latchkey.ActVaultsWrite
	case "POST /w/{ws}/sso", "POST /w/{ws}/sso/verify":
		return latchkey.ActSSOWrite
	case "GET /w/{ws}/activity":
		return latchkey.ActEventsRead
	}
	return ""
}

// neededRole is the lowest role that may do a at all, "" when no role may.
func neededRole(a latchkey.Action) latchkey.Role {
	if _, ok := latchkey.RuleFor(a); !ok {
		return ""
	}
	for _, role := range []latchkey.Role{latchkey.RoleMember, latchkey.RoleAdmin, latchkey.RoleSuperAdmin, latchkey.RoleOwner} {
		if latchkey.Authorize(latchkey.Principal{Kind: latchkey.PrincipalUser, WorkspaceID: "w", Role: role}, a, latchkey.Target{WorkspaceID: "w"}) == nil {
			return role
		}
	}
	return ""
}

// human rewrites msg as a sentence for the person who made request r.
func human(r *http.Request, msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	if m := roleMayNot.FindStringSubmatch(msg); m != nil {
		if need := neededRole(actionOf(r)); need != "" {
			return "You need the " + roleLabel(need) + " role to do this."
		}
		return "Your role (" + roleLabel(latchkey.Role(m[1])) + ") does not allow this. An owner of the workspace can do it or change your role."
	}
	if m := roleOnlyPersonal.FindStringSubmatch(msg); m != nil {
		return "As " + article(roleLabel(latchkey.Role(m[1]))) + ", you can create only your own personal keys."
	}
	msg = rolePlaceholder.ReplaceAllStringFunc(msg, func(s string) string {
		return "role (" + roleLabel(latchkey.Role(rolePlaceholder.FindStringSubmatch(s)[1])) + ")"
	})
	if m := fieldNameInPrefix.FindString(msg); m != "" {
		msg = fieldWords[m] + msg[len(m):]
	}
	return sentence(msg)
}

// sentence starts msg with a capital letter and ends it with a full stop.
func sentence(msg string) string {
	first, size := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(first)) + msg[size:]
	switch msg[len(msg)-1] {
	case '.', '!', '?', ':', ')':
		if msg[len(msg)-1] != ')' {
			return msg
		}
	}
	return msg + "."
}

// article is "an Admin", "a Member".
func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOUaeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// humanizePage rewrites the page's messages before it is rendered.
func humanizePage(r *http.Request, pg *page) {
	pg.Error = human(r, pg.Error)
	for f, m := range pg.Fields {
		pg.Fields[f] = human(r, m)
	}
}
