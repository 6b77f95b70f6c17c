package scim

import (
	"strings"

	"github.com/latchkey/latchkey"
)

// attr describes an attribute (RFC 7643 §2.2): what /Schemas publishes and
// what input is checked and canonicalised against.
type attr struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Multi      bool   `json:"multiValued"`
	Required   bool   `json:"required"`
	CaseExact  bool   `json:"caseExact"`
	Mutability string `json:"mutability"`
	Returned   string `json:"returned"`
	Uniqueness string `json:"uniqueness"`
	Subs       []attr `json:"subAttributes,omitempty"`
}

func str(name string) attr {
	return attr{Name: name, Type: "string", Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

func boolean(name string) attr {
	a := str(name)
	a.Type = "boolean"
	return a
}

func ref(name string) attr {
	a := str(name)
	a.Type = "reference"
	return a
}

func complexAttr(name string, multi bool, subs ...attr) attr {
	a := str(name)
	a.Type, a.Multi, a.Subs = "complex", multi, subs
	return a
}

// multi is a multi-valued attribute with the usual value, display, type and primary.
func multi(name string, value attr) attr {
	return complexAttr(name, true, value, str("display"), str("type"), boolean("primary"))
}

var userAttrs = []attr{
	func() attr { a := str("userName"); a.Required, a.Uniqueness = true, "server"; return a }(),
	complexAttr("name", false, str("formatted"), str("familyName"), str("givenName"), str("middleName"),
		str("honorificPrefix"), str("honorificSuffix")),
	str("displayName"), str("nickName"), ref("profileUrl"), str("title"), str("userType"),
	str("preferredLanguage"), str("locale"), str("timezone"), boolean("active"),
	func() attr { a := str("password"); a.Mutability, a.Returned = "writeOnly", "never"; return a }(),
	multi("emails", str("value")), multi("phoneNumbers", str("value")), multi("ims", str("value")),
	multi("photos", ref("value")),
	complexAttr("addresses", true, str("formatted"), str("streetAddress"), str("locality"), str("region"),
		str("postalCode"), str("country"), str("type"), boolean("primary")),
	func() attr {
		a := complexAttr("groups", true, str("value"), ref("$ref"), str("display"), str("type"))
		a.Mutability = "readOnly"
		return a
	}(),
	multi("entitlements", str("value")), multi("roles", str("value")), multi("x509Certificates", str("value")),
}

var enterpriseAttrs = []attr{
	str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
	complexAttr("manager", false, str("value"), ref("$ref"), str("displayName")),
}

var groupAttrs = []attr{
	func() attr { a := str("displayName"); a.Required, a.Uniqueness = true, "server"; return a }(),
	complexAttr("members", true, func() attr { a := str("value"); a.Mutability = "immutable"; return a }(),
		ref("$ref"), str("display"), str("type")),
}

// externalId and the other common attributes (RFC 7643 §3.1) belong to
// every resource; externalId is the only one clients write.
var externalID = func() attr { a := str("externalId"); a.CaseExact = true; return a }()

// resource is a resource type's schema as the PATCH and input code needs it.
type resource struct {
	name   string // User or Group
	core   string // core schema URN
	attrs  []attr
	exts   map[string][]attr // known extension schemas by URN
	unique string            // the attribute unique per workspace
}

var (
	userResource = &resource{name: "User", core: latchkey.ScimUserSchema, attrs: append(userAttrs, externalID),
		exts: map[string][]attr{latchkey.ScimEnterpriseSchema: enterpriseAttrs}, unique: "userName"}
	groupResource = &resource{name: "Group", core: latchkey.ScimGroupSchema, attrs: append(groupAttrs, externalID),
		exts: map[string][]attr{}, unique: "displayName"}
)

// find returns the attribute named name (case-insensitively) among defs.
func find(defs []attr, name string) *attr {
	for i := range defs {
		if strings.EqualFold(defs[i].Name, name) {
			return &defs[i]
		}
	}
	return nil
}

// extension returns the canonical URN of a known extension schema, or "".
func (r *resource) extension(urn string) string {
	for u := range r.exts {
		if strings.EqualFold(u, urn) {
			return u
		}
	}
	return ""
}

// splitURN splits a URN-qualified attribute path into its schema and the
// rest: "urn:…:enterprise:2.0:User:manager.value" → (the enterprise URN,
// "manager.value"). A bare schema URN returns (urn, ""). Paths of unknown
// schemas split at the last colon. A path without a URN returns ("", path).
func (r *resource) splitURN(path string) (string, string) {
	if !strings.HasPrefix(strings.ToLower(path), "urn:") {
		return "", path
	}
	lower := strings.ToLower(path)
	known := []string{r.core}
	for u := range r.exts {
		known = append(known, u)
	}
	for _, u := range known {
		lu := strings.ToLower(u)
		if lower == lu {
			return u, ""
		}
		if strings.HasPrefix(lower, lu+":") {
			return u, path[len(u)+1:]
		}
	}
	// An unknown schema's URN ends, by convention, in the resource's name
	// (urn:…:CustomExtension:2.0:User); what follows is an attribute.
	i := strings.LastIndex(path, ":")
	if strings.EqualFold(path[i+1:], r.name) {
		return path, ""
	}
	return path[:i], path[i+1:]
}
