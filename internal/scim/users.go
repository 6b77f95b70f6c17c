package scim

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
)

// userService is what the /Users handlers use.
type userService interface {
	ScimUsers(ctx context.Context, p latchkey.Principal, q latchkey.ScimQuery) ([]*latchkey.ScimUser, int, error)
	ScimUser(ctx context.Context, p latchkey.Principal, userID string) (*latchkey.ScimUser, error)
	CreateScimUser(ctx context.Context, p latchkey.Principal, u *latchkey.ScimUser) (*latchkey.ScimUser, error)
	UpdateScimUser(ctx context.Context, p latchkey.Principal, userID string, fn func(*latchkey.ScimUser) error) (*latchkey.ScimUser, error)
	DeleteScimUser(ctx context.Context, p latchkey.Principal, userID string) error
}

// users routes /Users and /Users/{id}.
func (h *Handler) users(q *request, id string) error {
	switch m := q.r.Method; {
	case id == "" && m == http.MethodGet:
		return h.listUsers(q)
	case id == "" && m == http.MethodPost:
		return h.createUser(q)
	case id != "" && m == http.MethodGet:
		u, err := h.svc.ScimUser(q.r.Context(), q.p, id)
		if err != nil {
			return err
		}
		return q.answer(http.StatusOK, q.userJSON(u))
	case id != "" && m == http.MethodPut:
		return h.replaceUser(q, id)
	case id != "" && m == http.MethodPatch:
		return h.patchUser(q, id)
	case id != "" && m == http.MethodDelete:
		if err := h.svc.DeleteScimUser(q.r.Context(), q.p, id); err != nil {
			return err
		}
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(q.r)
}

func (h *Handler) listUsers(q *request) error {
	lq, err := q.listQuery(userResource)
	if err != nil {
		return err
	}
	list, total, err := h.svc.ScimUsers(q.r.Context(), q.p, lq)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, u := range list {
		out = append(out, q.userJSON(u))
	}
	return q.list(lq, total, out)
}

// createUser provisions a user (POST /Users): a new member, or a link to
// the latchkey account that has the same email.
func (h *Handler) createUser(q *request) error {
	body, err := decode(q)
	if err != nil {
		return err
	}
	doc, err := normalize(userResource, body, q.custom)
	if err != nil {
		return err
	}
	u := &latchkey.ScimUser{Active: true}
	if err := toUser(doc, u, q.custom); err != nil {
		return err
	}
	created, err := h.svc.CreateScimUser(q.r.Context(), q.p, u)
	if err != nil {
		return err
	}
	out := q.userJSON(created)
	q.w.Header().Set("Location", q.base+"/Users/"+created.UserID)
	return q.answer(http.StatusCreated, out)
}

// replaceUser is PUT: the body replaces every attribute (Okta's AIW apps
// send every change, deprovisioning included, this way).
func (h *Handler) replaceUser(q *request, id string) error {
	body, err := decode(q)
	if err != nil {
		return err
	}
	doc, err := normalize(userResource, body, q.custom)
	if err != nil {
		return err
	}
	u, err := h.svc.UpdateScimUser(q.r.Context(), q.p, id, func(u *latchkey.ScimUser) error {
		return toUser(clone(doc), u, q.custom)
	})
	if err != nil {
		return err
	}
	return q.answer(http.StatusOK, q.userJSON(u))
}

// patchUser applies a PatchOp in one transaction: every operation applies
// or none does.
func (h *Handler) patchUser(q *request, id string) error {
	body, err := decode(q)
	if err != nil {
		return err
	}
	ops, err := decodePatch(body)
	if err != nil {
		return err
	}
	u, err := h.svc.UpdateScimUser(q.r.Context(), q.p, id, func(u *latchkey.ScimUser) error {
		doc := userDoc(u, q.custom)
		if err := applyPatch(userResource, doc, ops, q.custom); err != nil {
			return err
		}
		norm, err := normalize(userResource, doc, q.custom)
		if err != nil {
			return err
		}
		return toUser(norm, u, q.custom)
	})
	if err != nil {
		return err
	}
	return q.answer(http.StatusOK, q.userJSON(u))
}
