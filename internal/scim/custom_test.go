package scim

import (
	"testing"
)

const customURN = "urn:ietf:params:scim:schemas:extension:Letsignit:2.0:User"

// TestCustomAttributes flips the workspace's scim_custom_attributes switch:
// on, attributes of other extension schemas are stored, returned and
// listed in /Schemas; off, they are ignored (and kept for when it is on).
func TestCustomAttributes(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnv(t, st.open(t))
			body := map[string]any{
				"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", customURN},
				"userName": "lea@acme.test", "emails": []any{map[string]any{"value": "lea@acme.test"}},
				customURN: map[string]any{"signatureTemplate": "Sales", "badge": 42, "vip": "ignored?", "empty": nil},
			}
			got := e.do("POST", "/Users", body)
			if got.status != 201 || got.body[customURN] != nil {
				t.Fatalf("off: create answered %d %s, want 201 without %s", got.status, got.raw, customURN)
			}
			id := got.body["id"].(string)
			if got := e.do("GET", "/Schemas", nil); got.body["totalResults"] != float64(3) {
				t.Errorf("off: /Schemas lists %v schemas, want 3", got.body["totalResults"])
			}

			e.setCustom(true)
			if got := e.do("GET", "/Users/"+id, nil); got.body[customURN] != nil {
				t.Errorf("on: an attribute sent while off was stored: %s", got.raw)
			}
			got = e.do("PATCH", "/Users/"+id, `{"Operations":[
				{"op":"add","path":"`+customURN+`:signatureTemplate","value":"Sales"},
				{"op":"replace","value":{"`+customURN+`":{"badge":"42","vip":true}}}]}`)
			want := map[string]any{customURN: map[string]any{"signatureTemplate": "Sales", "badge": "42", "vip": true}}
			if d := subset(got.body, want, "answer"); got.status != 200 || d != "" {
				t.Fatalf("on: PATCH answered %d: %s\n%s", got.status, d, got.raw)
			}
			schemas := e.do("GET", "/Schemas", nil)
			if schemas.body["totalResults"] != float64(4) {
				t.Fatalf("on: /Schemas: %s, want the custom schema too", schemas.raw)
			}
			if d := subset(schemas.body["Resources"].([]any)[3], map[string]any{"id": customURN,
				"attributes": []any{map[string]any{"name": "badge", "type": "string"}, map[string]any{"name": "signatureTemplate"}, map[string]any{"name": "vip", "type": "boolean"}}}, "schema"); d != "" {
				t.Errorf("on: %s", d)
			}
			if rt := e.do("GET", "/ResourceTypes/User", nil); len(rt.body["schemaExtensions"].([]any)) != 2 {
				t.Errorf("on: the User resource type lists %s", rt.raw)
			}
			if got := e.do("GET", "/Users?filter="+customURN+":badge%20eq%20%2242%22", nil); got.status != 400 || got.body["scimType"] != "invalidFilter" {
				t.Errorf("on: filtering on a custom attribute: got %d, want 400 invalidFilter", got.status)
			}

			e.setCustom(false)
			got = e.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"`+customURN+`:badge","value":"7"},{"op":"replace","path":"displayName","value":"Lea"}]}`)
			if got.status != 200 || got.body[customURN] != nil || got.body["displayName"] != "Lea" {
				t.Fatalf("off: PATCH answered %d %s, want the custom part ignored and hidden", got.status, got.raw)
			}
			e.setCustom(true)
			got = e.do("GET", "/Users/"+id, nil)
			if d := subset(got.body, want, "answer"); d != "" {
				t.Errorf("on again: the stored custom attributes changed while off: %s", d)
			}
		})
	}
}
