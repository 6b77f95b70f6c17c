package latchkey

import "strings"

// ScopeGroup is one resource's scopes, as a permission grid shows them:
// "None / Read / Read and write" comes from Read and Write, and the
// resource's other actions (leaks:report) are in Other.
type ScopeGroup struct {
	Resource    string
	Read, Write *Scope
	Other       []Scope
}

// Label names the resource as people write it: "automated_jobs" is
// "Automated jobs".
func (g ScopeGroup) Label() string {
	s := strings.ReplaceAll(g.Resource, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ScopeGroups groups the type's scopes by resource (the part before the
// colon), in the order the catalog first names each resource, so consoles
// can offer one choice per resource instead of a flat list.
func (t *KeyType) ScopeGroups() []ScopeGroup {
	var out []ScopeGroup
	index := map[string]int{}
	for i := range t.Scopes {
		s := t.Scopes[i]
		resource, action, _ := strings.Cut(s.Name, ":")
		at, ok := index[resource]
		if !ok {
			at = len(out)
			index[resource] = at
			out = append(out, ScopeGroup{Resource: resource})
		}
		g := &out[at]
		switch {
		case action == "read" && g.Read == nil:
			g.Read = &s
		case action == "write" && g.Write == nil:
			g.Write = &s
		default:
			g.Other = append(g.Other, s)
		}
	}
	return out
}
