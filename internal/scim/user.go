package scim

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// userDoc returns u as a doc; custom extensions only when the workspace
// keeps them.
func userDoc(u *latchkey.ScimUser, custom bool) map[string]any {
	doc := clone(u.Doc)
	if !custom {
		for k := range customOf(doc) {
			delete(doc, k)
		}
	}
	doc["userName"] = u.UserName
	if u.ExternalID != "" {
		doc["externalId"] = u.ExternalID
	}
	doc["active"] = u.Active
	if len(u.Emails) > 0 {
		var emails []any
		for _, e := range u.Emails {
			m := map[string]any{"value": e.Value}
			if e.Type != "" {
				m["type"] = e.Type
			}
			if e.Primary {
				m["primary"] = true
			}
			if e.Display != "" {
				m["display"] = e.Display
			}
			emails = append(emails, m)
		}
		doc["emails"] = emails
	}
	return doc
}

// toUser fills u from a normalized doc. An absent active leaves u.Active
// as it is: only an explicit false deprovisions. With custom attributes
// off, the custom extensions u already holds are kept untouched.
func toUser(doc map[string]any, u *latchkey.ScimUser, custom bool) error {
	name, _ := doc["userName"].(string)
	if name = strings.TrimSpace(name); name == "" {
		return invalid("invalidValue", "userName is required")
	}
	if len(name) > 256 {
		return invalid("invalidValue", "userName is longer than 256 characters")
	}
	u.UserName = name
	u.ExternalID, _ = doc["externalId"].(string)
	if a, ok := doc["active"].(bool); ok {
		u.Active = a
	}
	u.Emails = nil
	primary := false
	for _, e := range elements(doc["emails"]) {
		m := e.(map[string]any)
		v, _ := m["value"].(string)
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		em := latchkey.ScimEmail{Value: v}
		em.Type, _ = m["type"].(string)
		em.Display, _ = m["display"].(string)
		if p, _ := m["primary"].(bool); p && !primary {
			em.Primary, primary = true, true // one primary at most (RFC 7643 §2.4)
		}
		u.Emails = append(u.Emails, em)
	}
	if len(u.Emails) > 100 {
		return invalid("invalidValue", "at most 100 emails")
	}
	rest := map[string]any{}
	for k, v := range doc {
		switch k {
		case "userName", "externalId", "active", "emails":
		default:
			rest[k] = v
		}
	}
	if !custom {
		for k, v := range customOf(u.Doc) {
			rest[k] = v
		}
	}
	u.Doc = rest
	u.Email, u.Name = loginEmail(u), displayName(rest)
	return nil
}

// loginEmail is the address the person logs in with: the primary email,
// else the first, else a userName shaped like an email.
func loginEmail(u *latchkey.ScimUser) string {
	for _, e := range u.Emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(u.Emails) > 0 {
		return u.Emails[0].Value
	}
	return u.UserName
}

func displayName(doc map[string]any) string {
	if s, _ := doc["displayName"].(string); s != "" {
		return s
	}
	n, _ := doc["name"].(map[string]any)
	if s, _ := n["formatted"].(string); s != "" {
		return s
	}
	given, _ := n["givenName"].(string)
	family, _ := n["familyName"].(string)
	return strings.TrimSpace(given + " " + family)
}

// userJSON is the representation of u that SCIM answers with.
func (q *request) userJSON(u *latchkey.ScimUser) map[string]any {
	doc := userDoc(u, q.custom)
	doc["schemas"] = schemasOf(latchkey.ScimUserSchema, doc)
	doc["id"] = u.UserID
	doc["meta"] = meta("User", u.Created, u.Updated, q.base+"/Users/"+u.UserID, u.Version)
	return doc
}

// schemasOf lists the core schema and every extension a doc holds.
func schemasOf(core string, doc map[string]any) []string {
	var exts []string
	for k := range doc {
		if strings.HasPrefix(strings.ToLower(k), "urn:") {
			exts = append(exts, k)
		}
	}
	sort.Strings(exts)
	return append([]string{core}, exts...)
}

func meta(kind string, created, updated time.Time, location string, version int64) map[string]any {
	return map[string]any{
		"resourceType": kind,
		"created":      created.UTC().Format(time.RFC3339Nano),
		"lastModified": updated.UTC().Format(time.RFC3339Nano),
		"location":     location,
		"version":      `W/"` + strconv.FormatInt(version, 10) + `"`,
	}
}
