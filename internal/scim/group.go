package scim

import (
	"strings"

	"github.com/latchkey/latchkey"
)

// groupDoc returns g as a doc.
func groupDoc(g *latchkey.ScimGroup, custom bool) map[string]any {
	doc := clone(g.Doc)
	if !custom {
		for k := range customOf(doc) {
			delete(doc, k)
		}
	}
	doc["displayName"] = g.DisplayName
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	if len(g.Members) > 0 {
		ms := make([]any, 0, len(g.Members))
		for _, m := range g.Members {
			e := map[string]any{"value": m.Value}
			if m.Display != "" {
				e["display"] = m.Display
			}
			ms = append(ms, e)
		}
		doc["members"] = ms
	}
	return doc
}

// toGroup fills g from a normalized doc.
func toGroup(doc map[string]any, g *latchkey.ScimGroup, custom bool) error {
	name, _ := doc["displayName"].(string)
	if name = strings.TrimSpace(name); name == "" {
		return invalid("invalidValue", "displayName is required")
	}
	if len(name) > 256 {
		return invalid("invalidValue", "displayName is longer than 256 characters")
	}
	g.DisplayName = name
	g.ExternalID, _ = doc["externalId"].(string)
	g.Members = []latchkey.ScimMember{}
	for _, e := range elements(doc["members"]) {
		v, _ := e.(map[string]any)["value"].(string)
		if v = strings.TrimSpace(v); v == "" {
			return invalid("invalidValue", "every member needs a value: the id of a user")
		}
		g.Members = append(g.Members, latchkey.ScimMember{Value: v})
	}
	if len(g.Members) > 100000 {
		return invalid("invalidValue", "at most 100000 members")
	}
	rest := map[string]any{}
	for k, v := range doc {
		if latchkey.ScimIsCustom(k) {
			rest[k] = v
		}
	}
	if !custom {
		rest = customOf(g.Doc)
	}
	g.Doc = rest
	return nil
}

// groupJSON is the representation of g that SCIM answers with.
func (q *request) groupJSON(g *latchkey.ScimGroup) map[string]any {
	doc := groupDoc(g, q.custom)
	if ms, ok := doc["members"].([]any); ok {
		for _, m := range ms {
			e := m.(map[string]any)
			e["$ref"] = q.base + "/Users/" + e["value"].(string)
			e["type"] = "User"
		}
	}
	doc["schemas"] = schemasOf(latchkey.ScimGroupSchema, doc)
	doc["id"] = g.ID
	doc["meta"] = meta("Group", g.Created, g.Updated, q.base+"/Groups/"+g.ID, g.Version)
	return doc
}
