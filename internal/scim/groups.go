package scim

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
)

// groupService is what the /Groups handlers use.
type groupService interface {
	ScimGroups(ctx context.Context, p latchkey.Principal, q latchkey.ScimQuery) ([]*latchkey.ScimGroup, int, error)
	ScimGroup(ctx context.Context, p latchkey.Principal, groupID string) (*latchkey.ScimGroup, error)
	CreateScimGroup(ctx context.Context, p latchkey.Principal, g *latchkey.ScimGroup) (*latchkey.ScimGroup, error)
	UpdateScimGroup(ctx context.Context, p latchkey.Principal, groupID string, fn func(*latchkey.ScimGroup) error) (*latchkey.ScimGroup, error)
	DeleteScimGroup(ctx context.Context, p latchkey.Principal, groupID string) error
}

// groups routes /Groups and /Groups/{id}.
func (h *Handler) groups(q *request, id string) error {
	ctx := q.r.Context()
	switch m := q.r.Method; {
	case id == "" && m == http.MethodGet:
		lq, err := q.listQuery(groupResource)
		if err != nil {
			return err
		}
		list, total, err := h.svc.ScimGroups(ctx, q.p, lq)
		if err != nil {
			return err
		}
		out := make([]map[string]any, 0, len(list))
		for _, g := range list {
			out = append(out, q.groupJSON(g))
		}
		return q.list(lq, total, out)
	case id == "" && m == http.MethodPost:
		doc, err := q.groupBody()
		if err != nil {
			return err
		}
		g := &latchkey.ScimGroup{}
		if err := toGroup(doc, g, q.custom); err != nil {
			return err
		}
		created, err := h.svc.CreateScimGroup(ctx, q.p, g)
		if err != nil {
			return err
		}
		q.w.Header().Set("Location", q.base+"/Groups/"+created.ID)
		return q.answer(http.StatusCreated, q.groupJSON(created))
	case id != "" && m == http.MethodGet:
		g, err := h.svc.ScimGroup(ctx, q.p, id)
		if err != nil {
			return err
		}
		return q.answer(http.StatusOK, q.groupJSON(g))
	case id != "" && m == http.MethodPut:
		doc, err := q.groupBody()
		if err != nil {
			return err
		}
		g, err := h.svc.UpdateScimGroup(ctx, q.p, id, func(g *latchkey.ScimGroup) error { return toGroup(clone(doc), g, q.custom) })
		if err != nil {
			return err
		}
		return q.answer(http.StatusOK, q.groupJSON(g))
	case id != "" && m == http.MethodPatch:
		return h.patchGroup(q, id)
	case id != "" && m == http.MethodDelete:
		if err := h.svc.DeleteScimGroup(ctx, q.p, id); err != nil {
			return err
		}
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(q.r)
}

func (q *request) groupBody() (map[string]any, error) {
	body, err := decode(q)
	if err != nil {
		return nil, err
	}
	return normalize(groupResource, body, q.custom)
}

// patchGroup applies a PatchOp (membership changes, renames) in one
// transaction and answers 204: a group of thousands of members is not
// worth sending back, and both Okta and Entra accept it.
func (h *Handler) patchGroup(q *request, id string) error {
	body, err := decode(q)
	if err != nil {
		return err
	}
	ops, err := decodePatch(body)
	if err != nil {
		return err
	}
	_, err = h.svc.UpdateScimGroup(q.r.Context(), q.p, id, func(g *latchkey.ScimGroup) error {
		doc := groupDoc(g, q.custom)
		if err := applyPatch(groupResource, doc, ops, q.custom); err != nil {
			return err
		}
		norm, err := normalize(groupResource, doc, q.custom)
		if err != nil {
			return err
		}
		return toGroup(norm, g, q.custom)
	})
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
