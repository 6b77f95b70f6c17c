package scim

import (
	"context"
	"net/http"
	"sort"

	"github.com/latchkey/latchkey"
)

// schemaService is what the discovery endpoints use.
type schemaService interface {
	ScimExtensionAttrs(ctx context.Context, p latchkey.Principal) ([]latchkey.ScimExtensionAttr, error)
}

const (
	configSchema       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	resourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// serviceProviderConfig advertises what works and nothing more: PATCH and
// filters yes; bulk, sorting, ETags (If-Match) and password changes no.
func (h *Handler) serviceProviderConfig(q *request) error {
	no := map[string]any{"supported": false}
	return q.answer(http.StatusOK, map[string]any{
		"schemas":          []string{configSchema},
		"documentationUri": "https://github.com/latchkey/latchkey#scim",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxResults},
		"changePassword":   no,
		"sort":             no,
		"etag":             no,
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "SCIM key",
			"description": "The workspace's latchkey SCIM key, sent as Authorization: Bearer.",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": q.base + "/ServiceProviderConfig"},
	})
}

func (q *request) resourceType(name, endpoint, schema string, exts ...string) map[string]any {
	rt := map[string]any{
		"schemas": []string{resourceTypeSchema}, "id": name, "name": name, "endpoint": endpoint,
		"description": name + "s of the workspace", "schema": schema,
		"meta": map[string]any{"resourceType": "ResourceType", "location": q.base + "/ResourceTypes/" + name},
	}
	if len(exts) > 0 {
		var se []any
		for _, e := range exts {
			se = append(se, map[string]any{"schema": e, "required": false})
		}
		rt["schemaExtensions"] = se
	}
	return rt
}

func (h *Handler) resourceTypes(q *request, id string) error {
	exts := []string{latchkey.ScimEnterpriseSchema}
	if q.custom {
		custom, err := h.customSchemas(q)
		if err != nil {
			return err
		}
		for _, s := range custom {
			exts = append(exts, s["id"].(string))
		}
	}
	all := []map[string]any{
		q.resourceType("User", "/Users", latchkey.ScimUserSchema, exts...),
		q.resourceType("Group", "/Groups", latchkey.ScimGroupSchema),
	}
	return q.pick(all, id)
}

func (h *Handler) schemas(q *request, id string) error {
	all := []map[string]any{
		q.schema(latchkey.ScimUserSchema, "User", "User Account", userResource.attrs),
		q.schema(latchkey.ScimEnterpriseSchema, "EnterpriseUser", "Enterprise User", enterpriseAttrs),
		q.schema(latchkey.ScimGroupSchema, "Group", "Group", groupResource.attrs),
	}
	if q.custom {
		custom, err := h.customSchemas(q)
		if err != nil {
			return err
		}
		all = append(all, custom...)
	}
	return q.pick(all, id)
}

func (q *request) schema(id, name, desc string, attrs []attr) map[string]any {
	return map[string]any{
		"schemas": []string{schemaSchema}, "id": id, "name": name, "description": desc, "attributes": attrs,
		"meta": map[string]any{"resourceType": "Schema", "location": q.base + "/Schemas/" + id},
	}
}

// customSchemas describes the extension schemas the workspace's users
// hold, from the attributes seen under each.
func (h *Handler) customSchemas(q *request) ([]map[string]any, error) {
	seen, err := h.svc.ScimExtensionAttrs(q.r.Context(), q.p)
	if err != nil {
		return nil, err
	}
	byURN := map[string][]attr{}
	for _, a := range seen {
		d := str(a.Name)
		d.Type, d.Multi = a.Type, a.MultiValued
		byURN[a.URN] = append(byURN[a.URN], d)
	}
	urns := make([]string, 0, len(byURN))
	for u := range byURN {
		urns = append(urns, u)
	}
	sort.Strings(urns)
	var out []map[string]any
	for _, u := range urns {
		out = append(out, q.schema(u, "Custom extension", "Attributes the identity provider sent under "+u, byURN[u]))
	}
	return out, nil
}

// pick answers one item by id, or all of them as a ListResponse.
func (q *request) pick(all []map[string]any, id string) error {
	if id == "" {
		writeJSON(q.w, http.StatusOK, map[string]any{
			"schemas": []string{listSchema}, "totalResults": len(all), "itemsPerPage": len(all),
			"startIndex": 1, "Resources": all,
		})
		return nil
	}
	for _, it := range all {
		if it["id"] == id {
			return q.answer(http.StatusOK, it)
		}
	}
	return latchkey.Errorf(latchkey.ENOTFOUND, "%s not found", id)
}
