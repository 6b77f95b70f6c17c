package latchkey

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

// Built-in key types. Their meaning is fixed in code (SCIM keys open /scim/v2,
// management keys open the management API); the catalog only describes them.
const (
	TypePublicAPI  = "public_api"
	TypeSCIM       = "scim"
	TypeOnPremise  = "on_premise"
	TypeManagement = "management"
)

// ManagementScopes are the scopes a management key can hold; the
// authorization table refers to them, so a catalog cannot change them.
var ManagementScopes = []string{
	"keys:read", "keys:write", "members:read", "members:write",
	"events:read", "vaults:read", "vaults:write", "leaks:report",
}

//go:embed default_catalog.json
var defaultCatalog []byte

// Catalog describes the key types a deployment offers, with their scopes
// and settings. Operators may replace it with their own file.
type Catalog struct {
	Types []KeyType `json:"types"`
}

// KeyType is one kind of key in the catalog.
type KeyType struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
	Personal    bool   `json:"personal,omitempty"` // members may own one
	// Verifiable says whether the product verifies this type's keys at
	// /v1/verify without naming the type. Absent means true, except for
	// scim and management, which never are: their keys open latchkey
	// itself, and a product that accepted one as an API key would let a
	// leaked management or SCIM key into it.
	Verifiable *bool         `json:"verifiable,omitempty"`
	Scopes     []Scope       `json:"scopes,omitempty"`
	Settings   []SettingSpec `json:"settings,omitempty"`
}

// Scope is a permission string "resource:action" with a human label.
type Scope struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// SettingSpec describes one setting of a key type.
type SettingSpec struct {
	Name    string   `json:"name"`
	Label   string   `json:"label"`
	Kind    string   `json:"kind"` // bool, string, email or enum
	Values  []string `json:"values,omitempty"`
	Default any      `json:"default,omitempty"`
}

var (
	scopePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$`)
	namePattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// DefaultCatalog returns the catalog embedded in the binary.
func DefaultCatalog() *Catalog {
	c, err := ParseCatalog(defaultCatalog)
	if err != nil {
		panic("embedded catalog is invalid: " + err.Error()) // a build defect, caught by tests
	}
	return c
}

// ParseCatalog reads and checks a catalog file. The built-in types scim and
// management must be present, and management may offer only ManagementScopes.
func ParseCatalog(b []byte) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	seen := map[string]bool{}
	for _, t := range c.Types {
		if !namePattern.MatchString(t.Name) || seen[t.Name] {
			return nil, fmt.Errorf("catalog: type name %q is invalid or repeated", t.Name)
		}
		seen[t.Name] = true
		if (t.Name == TypeSCIM || t.Name == TypeManagement) && t.Verifiable != nil && *t.Verifiable {
			return nil, fmt.Errorf("catalog: type %s opens latchkey itself and cannot be verifiable by the product", t.Name)
		}
		for _, s := range t.Scopes {
			if !scopePattern.MatchString(s.Name) {
				return nil, fmt.Errorf("catalog: type %s: scope %q is not resource:action", t.Name, s.Name)
			}
			if t.Name == TypeManagement && !slices.Contains(ManagementScopes, s.Name) {
				return nil, fmt.Errorf("catalog: management scope %q is not one latchkey enforces", s.Name)
			}
		}
		for _, s := range t.Settings {
			if !namePattern.MatchString(s.Name) {
				return nil, fmt.Errorf("catalog: type %s: setting name %q is invalid", t.Name, s.Name)
			}
			switch s.Kind {
			case "bool", "string", "email":
			case "enum":
				if len(s.Values) == 0 {
					return nil, fmt.Errorf("catalog: type %s: enum setting %s has no values", t.Name, s.Name)
				}
			default:
				return nil, fmt.Errorf("catalog: type %s: setting %s has unknown kind %q", t.Name, s.Name, s.Kind)
			}
		}
	}
	for _, need := range []string{TypeSCIM, TypeManagement} {
		if !seen[need] {
			return nil, fmt.Errorf("catalog: the built-in type %q is missing", need)
		}
	}
	return &c, nil
}

// Type returns the key type called name.
func (c *Catalog) Type(name string) (*KeyType, bool) {
	for i := range c.Types {
		if c.Types[i].Name == name {
			return &c.Types[i], true
		}
	}
	return nil, false
}

// ProductVerifies reports whether the product's verify calls accept keys
// of type t without naming the type (see KeyType.Verifiable).
func (t *KeyType) ProductVerifies() bool {
	if t.Name == TypeSCIM || t.Name == TypeManagement {
		return false
	}
	return t.Verifiable == nil || *t.Verifiable
}

// Verifiable reports whether keys of the type called name are verified for
// the product without naming their type; unknown types are not.
func (c *Catalog) Verifiable(name string) bool {
	t, ok := c.Type(name)
	return ok && t.ProductVerifies()
}

// ValidateScopes checks that every scope belongs to the type and returns them
// de-duplicated in catalog order.
func (t *KeyType) ValidateScopes(scopes []string) ([]string, error) {
	var unknown []string
	for _, s := range scopes {
		if !slices.ContainsFunc(t.Scopes, func(c Scope) bool { return c.Name == s }) {
			unknown = append(unknown, s)
		}
	}
	if len(unknown) > 0 {
		return nil, Errorf(EINVALID, "unknown scopes for type %s: %s", t.Name, strings.Join(unknown, ", ")).
			WithDetail("field", "scopes").WithDetail("unknown", unknown)
	}
	out := []string{}
	for _, c := range t.Scopes {
		if slices.Contains(scopes, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out, nil
}

// ValidateSettings checks settings against the type, fills defaults, and
// returns the complete settings object. Unknown names are refused so that a
// typo is not silently ignored.
func (t *KeyType) ValidateSettings(in map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for name := range in {
		if !slices.ContainsFunc(t.Settings, func(s SettingSpec) bool { return s.Name == name }) {
			return nil, Errorf(EINVALID, "type %s has no setting %q", t.Name, name).WithDetail("field", "settings."+name)
		}
	}
	for _, s := range t.Settings {
		v, ok := in[s.Name]
		if !ok || v == nil {
			if s.Default != nil {
				out[s.Name] = s.Default
			}
			continue
		}
		bad := func(want string) error {
			return Errorf(EINVALID, "setting %s must be %s", s.Name, want).WithDetail("field", "settings."+s.Name)
		}
		switch s.Kind {
		case "bool":
			if _, ok := v.(bool); !ok {
				return nil, bad("true or false")
			}
		case "string":
			str, ok := v.(string)
			if !ok || len(str) > 1000 {
				return nil, bad("a string of at most 1000 characters")
			}
		case "email":
			str, ok := v.(string)
			if !ok {
				return nil, bad("an email address")
			}
			if a, err := mail.ParseAddress(str); err != nil || a.Address != str {
				return nil, bad("an email address")
			}
		case "enum":
			str, ok := v.(string)
			if !ok || !slices.Contains(s.Values, str) {
				return nil, bad("one of " + strings.Join(s.Values, ", "))
			}
		}
		out[s.Name] = v
	}
	return out, nil
}
