package latchkey

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// SCIM schema URNs latchkey knows (RFC 7643).
const (
	ScimUserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	ScimGroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	ScimEnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// ScimUser is what an identity provider provisioned for one member of one
// workspace. SCIM attributes are kept per membership, never on the global
// user: the same person may be provisioned differently by the identity
// providers of two workspaces, and neither may rewrite the other's view.
type ScimUser struct {
	WorkspaceID string
	// UserID is the latchkey user's id, which is also the SCIM resource id.
	UserID     string
	UserName   string
	ExternalID string
	// Active is the membership's active flag: false once deprovisioned.
	Active bool
	Emails []ScimEmail
	// Doc holds every other attribute with canonical names: name,
	// displayName, the enterprise extension under its URN, and custom
	// extensions under theirs. Never id, meta, password or groups, nor the
	// attributes held in the fields above.
	Doc map[string]any
	// Email and Name are the user's login email and name: set from the
	// SCIM attributes on creation; later only for a user who belongs to no
	// other workspace (see ScimStore.UpdateScimUser).
	Email            string
	Name             string
	Created, Updated time.Time
	Version          int64
}

// ScimEmail is one of a SCIM user's email addresses.
type ScimEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
	Display string `json:"display,omitempty"`
}

// ScimGroup is a group an identity provider provisioned in a workspace.
// Membership of a group grants nothing in latchkey: roles stay latchkey's
// decision; groups are kept so that the identity provider's view
// round-trips.
type ScimGroup struct {
	WorkspaceID string
	ID          string
	DisplayName string
	ExternalID  string
	Members     []ScimMember
	// Doc holds extension attributes under their schema URN.
	Doc              map[string]any
	Created, Updated time.Time
	Version          int64
}

// ScimMember is a member of a group: a SCIM user of the same workspace.
type ScimMember struct {
	Value   string `json:"value"`             // the user's id
	Display string `json:"display,omitempty"` // their userName, filled in by the store
}

// ScimExtensionAttr is an attribute seen under a custom extension schema,
// listed in /Schemas when the workspace stores custom attributes.
type ScimExtensionAttr struct {
	URN  string
	Name string
	Type string // SCIM type: string, boolean, decimal, complex
	// MultiValued is true when the attribute held an array.
	MultiValued bool
}

// ScimAttrKind says how a filterable attribute compares.
type ScimAttrKind uint8

// Kinds of filterable attributes. Folded strings compare case-insensitively
// (RFC 7643 caseExact false): both the stored value and the filter's are
// lower-cased by strings.ToLower, so every store folds alike.
const (
	ScimFolded ScimAttrKind = iota + 1
	ScimExact
	ScimBool
	ScimTime
)

// ScimAttr is a filterable attribute: its canonical name in filters and
// where its value lives in ScimUser.Doc.
type ScimAttr struct {
	Name string
	Path []string
	Kind ScimAttrKind
}

// ScimUserDocAttrs are the filterable user attributes kept in the Doc; the
// stores index them from ScimUser.Search. userName, externalId, id, active,
// emails and meta are columns of their own.
var ScimUserDocAttrs = []ScimAttr{
	{"displayName", []string{"displayName"}, ScimFolded},
	{"nickName", []string{"nickName"}, ScimFolded},
	{"title", []string{"title"}, ScimFolded},
	{"userType", []string{"userType"}, ScimFolded},
	{"preferredLanguage", []string{"preferredLanguage"}, ScimFolded},
	{"locale", []string{"locale"}, ScimFolded},
	{"timezone", []string{"timezone"}, ScimFolded},
	{"name.formatted", []string{"name", "formatted"}, ScimFolded},
	{"name.familyName", []string{"name", "familyName"}, ScimFolded},
	{"name.givenName", []string{"name", "givenName"}, ScimFolded},
	{"name.middleName", []string{"name", "middleName"}, ScimFolded},
	{ScimEnterpriseSchema + ":employeeNumber", []string{ScimEnterpriseSchema, "employeeNumber"}, ScimFolded},
	{ScimEnterpriseSchema + ":costCenter", []string{ScimEnterpriseSchema, "costCenter"}, ScimFolded},
	{ScimEnterpriseSchema + ":organization", []string{ScimEnterpriseSchema, "organization"}, ScimFolded},
	{ScimEnterpriseSchema + ":division", []string{ScimEnterpriseSchema, "division"}, ScimFolded},
	{ScimEnterpriseSchema + ":department", []string{ScimEnterpriseSchema, "department"}, ScimFolded},
	{ScimEnterpriseSchema + ":manager.value", []string{ScimEnterpriseSchema, "manager", "value"}, ScimExact},
}

// Filterable attributes held in columns, by the name filters use.
var (
	ScimUserColumns = map[string]ScimAttrKind{
		"id": ScimExact, "userName": ScimFolded, "externalId": ScimExact, "active": ScimBool,
		"meta.created": ScimTime, "meta.lastModified": ScimTime,
	}
	// ScimEmailColumns are the sub-attributes of emails filters may test.
	ScimEmailColumns = map[string]ScimAttrKind{"value": ScimFolded, "type": ScimFolded, "primary": ScimBool}
	ScimGroupColumns = map[string]ScimAttrKind{
		"id": ScimExact, "displayName": ScimFolded, "externalId": ScimExact,
		"meta.created": ScimTime, "meta.lastModified": ScimTime,
	}
	// ScimMemberColumns are the sub-attributes of a group's members filters may test.
	ScimMemberColumns = map[string]ScimAttrKind{"value": ScimExact}
)

// Search returns the folded values of u's filterable Doc attributes, by
// name: what the stores index so that a filter never loads every user.
func (u *ScimUser) Search() map[string]string {
	out := map[string]string{}
	for _, a := range ScimUserDocAttrs {
		var v any = u.Doc
		for _, p := range a.Path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		s, ok := v.(string)
		if !ok {
			continue
		}
		if a.Kind == ScimFolded {
			s = strings.ToLower(s)
		}
		out[a.Name] = s
	}
	return out
}

// ScimIsCustom reports whether key names a custom extension schema: a URN
// that is neither a core schema nor the enterprise extension.
func ScimIsCustom(key string) bool {
	if !strings.HasPrefix(strings.ToLower(key), "urn:") {
		return false
	}
	switch strings.ToLower(key) {
	case strings.ToLower(ScimUserSchema), strings.ToLower(ScimGroupSchema), strings.ToLower(ScimEnterpriseSchema):
		return false
	}
	return true
}

// ExtensionAttrs lists the attributes u holds under custom extension
// schemas, sorted, so that /Schemas can describe what the workspace stores.
func (u *ScimUser) ExtensionAttrs() []ScimExtensionAttr {
	var out []ScimExtensionAttr
	for urn, v := range u.Doc {
		m, ok := v.(map[string]any)
		if !ok || !ScimIsCustom(urn) {
			continue
		}
		for name, val := range m {
			a := ScimExtensionAttr{URN: urn, Name: name}
			if arr, ok := val.([]any); ok {
				a.MultiValued = true
				if len(arr) > 0 {
					val = arr[0]
				}
			}
			a.Type = scimType(val)
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].URN != out[j].URN {
			return out[i].URN < out[j].URN
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func scimType(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case float64, json.Number:
		return "decimal"
	case map[string]any:
		return "complex"
	}
	return "string"
}
