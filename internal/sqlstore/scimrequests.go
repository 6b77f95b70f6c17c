package sqlstore

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

const scimRequestSelect = `SELECT id, workspace_id, contact_email, integration, requested_by, created_at,
	approved_by, approved_at, key_id, issued_by, issued_at FROM scim_key_requests `

func scanScimRequest(row Row) (*latchkey.ScimKeyRequest, error) {
	var r latchkey.ScimKeyRequest
	err := row.Scan(&r.ID, &r.WorkspaceID, &r.ContactEmail, &r.Integration, &r.RequestedBy, &r.CreatedAt,
		&r.ApprovedBy, &r.ApprovedAt, &r.KeyID, &r.IssuedBy, &r.IssuedAt)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// CreateScimKeyRequest stores an open request and records ev. EINVALID if
// r is already marked issued, ECONFLICT if its id exists, ENOTFOUND if its
// workspace does not.
func (s *Store) CreateScimKeyRequest(ctx context.Context, r *latchkey.ScimKeyRequest, ev latchkey.Event) error {
	if r.KeyID != "" || r.IssuedBy != "" || r.IssuedAt != nil || r.ApprovedBy != "" || r.ApprovedAt != nil {
		return latchkey.Errorf(latchkey.EINVALID, "a new SCIM key request cannot be approved or issued already")
	}
	return s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO scim_key_requests
			(id, workspace_id, contact_email, integration, requested_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, r.WorkspaceID, r.ContactEmail, r.Integration, r.RequestedBy, r.CreatedAt)
		switch {
		case s.isUnique(err, AnyConstraint):
			return latchkey.Errorf(latchkey.ECONFLICT, "SCIM key request %s already exists", r.ID)
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		case err != nil:
			return s.wrap(err, "create SCIM key request")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = r.WorkspaceID
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// ScimKeyRequest returns one request of any workspace; ENOTFOUND if none.
// Operators fulfil requests across workspaces; workspace-facing callers
// compare WorkspaceID themselves.
func (s *Store) ScimKeyRequest(ctx context.Context, id string) (*latchkey.ScimKeyRequest, error) {
	r, err := scanScimRequest(s.read.QueryRow(ctx, scimRequestSelect+`WHERE id = ?`, id))
	if err != nil {
		return nil, s.notFound(err, "SCIM key request")
	}
	return r, nil
}

// ScimKeyRequests lists requests newest first: of one workspace, or of
// every workspace when workspaceID is "" (the operators' queue); only the
// open ones when open is true.
func (s *Store) ScimKeyRequests(ctx context.Context, workspaceID string, open bool) ([]*latchkey.ScimKeyRequest, error) {
	if unmatchable(workspaceID) {
		return []*latchkey.ScimKeyRequest{}, nil
	}
	rows, err := s.read.Query(ctx, scimRequestSelect+`
		WHERE (?1 = '' OR workspace_id = ?1) AND (NOT ?2 OR approved_at IS NULL)
		ORDER BY created_at DESC, id DESC`, workspaceID, open)
	list, err := collect(rows, err, scanScimRequest)
	if err != nil {
		return nil, s.wrap(err, "SCIM key requests")
	}
	return list, nil
}

// ApproveScimKeyRequest marks the request approved and records ev, in one
// transaction that holds the request's row: of two operators approving at
// once, the second gets ECONFLICT.
func (s *Store) ApproveScimKeyRequest(ctx context.Context, requestID, approvedBy string, at time.Time, ev latchkey.Event) (*latchkey.ScimKeyRequest, error) {
	var out *latchkey.ScimKeyRequest
	err := s.inTx(ctx, func(tx Conn) error {
		r, err := scanScimRequest(tx.QueryRow(ctx, scimRequestSelect+`WHERE id = ?`+s.lock("FOR NO KEY UPDATE"), requestID))
		if err != nil {
			return s.notFound(err, "SCIM key request")
		}
		if r.ApprovedAt != nil {
			return latchkey.Errorf(latchkey.ECONFLICT, "SCIM key request %s was already approved", r.ID)
		}
		if _, err := tx.Exec(ctx, `UPDATE scim_key_requests SET approved_by = ?, approved_at = ? WHERE id = ?`,
			approvedBy, at, requestID); err != nil {
			return s.wrap(err, "approve SCIM key request")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = r.WorkspaceID
		}
		approved := at.UTC().Truncate(time.Microsecond)
		r.ApprovedBy, r.ApprovedAt = approvedBy, &approved
		out = r
		return s.insertEvent(ctx, tx, &ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IssueScimKey creates k, marks the request issued with it by issuedBy at
// k.CreatedAt and records ev, in one transaction that holds the request's
// row: a key that cannot be stored leaves the request open, and of two
// operators issuing at once the second gets ECONFLICT. k must be a SCIM key
// of the request's workspace (an empty WorkspaceID is set to it); EINVALID
// otherwise. ENOTFOUND if there is no such request, ECONFLICT if it was
// already issued or k's id or hash exists.
func (s *Store) IssueScimKey(ctx context.Context, requestID string, k *latchkey.Key, issuedBy string, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		r, err := scanScimRequest(tx.QueryRow(ctx, scimRequestSelect+`WHERE id = ?`+s.lock("FOR NO KEY UPDATE"), requestID))
		if err != nil {
			return s.notFound(err, "SCIM key request")
		}
		if err := checkIssue(r, k); err != nil {
			return err
		}
		if err := s.insertKey(ctx, tx, k); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE scim_key_requests SET key_id = ?, issued_by = ?, issued_at = ?
			WHERE id = ?`, k.ID, issuedBy, k.CreatedAt, requestID)
		if err != nil {
			return s.wrap(err, "issue SCIM key")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = r.WorkspaceID
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// checkIssue refuses to issue a request not approved or already issued,
// or a key that is not a SCIM key of the request's workspace; it fills in
// an empty WorkspaceID.
func checkIssue(r *latchkey.ScimKeyRequest, k *latchkey.Key) error {
	if r.ApprovedAt == nil {
		return latchkey.Errorf(latchkey.ECONFLICT, "SCIM key request %s is not approved yet", r.ID)
	}
	if r.IssuedAt != nil {
		return latchkey.Errorf(latchkey.ECONFLICT, "SCIM key request %s was already issued", r.ID)
	}
	if k.WorkspaceID == "" {
		k.WorkspaceID = r.WorkspaceID
	}
	if k.WorkspaceID != r.WorkspaceID || k.Type != latchkey.TypeSCIM {
		return latchkey.Errorf(latchkey.EINVALID, "the key must be a SCIM key of the request's workspace")
	}
	return nil
}
