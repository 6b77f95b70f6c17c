package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const scimRequestSelect = `SELECT id, workspace_id, contact_email, integration, requested_by, created_at,
	approved_by, approved_at, key_id, issued_by, issued_at FROM scim_key_requests `

func scanScimRequest(row pgx.Row) (*latchkey.ScimKeyRequest, error) {
	var r latchkey.ScimKeyRequest
	var created time.Time
	err := row.Scan(&r.ID, &r.WorkspaceID, &r.ContactEmail, &r.Integration, &r.RequestedBy, &created,
		&r.ApprovedBy, &r.ApprovedAt, &r.KeyID, &r.IssuedBy, &r.IssuedAt)
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.ApprovedAt, r.IssuedAt = utc(created), utcPtr(r.ApprovedAt), utcPtr(r.IssuedAt)
	return &r, nil
}

// CreateScimKeyRequest stores an open request and records ev. EINVALID if
// r is already marked issued, ECONFLICT if its id exists, ENOTFOUND if its
// workspace does not.
func (db *DB) CreateScimKeyRequest(ctx context.Context, r *latchkey.ScimKeyRequest, ev latchkey.Event) error {
	if r.KeyID != "" || r.IssuedBy != "" || r.IssuedAt != nil || r.ApprovedBy != "" || r.ApprovedAt != nil {
		return latchkey.Errorf(latchkey.EINVALID, "a new SCIM key request cannot be approved or issued already")
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO scim_key_requests
			(id, workspace_id, contact_email, integration, requested_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, r.WorkspaceID, r.ContactEmail, r.Integration, r.RequestedBy, r.CreatedAt)
		switch {
		case isUnique(err, ""):
			return latchkey.Errorf(latchkey.ECONFLICT, "SCIM key request %s already exists", r.ID)
		case isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		case err != nil:
			return wrap(err, "create SCIM key request")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = r.WorkspaceID
		}
		return insertEvent(ctx, tx, &ev)
	})
}

// ScimKeyRequest returns one request of any workspace; ENOTFOUND if none.
// Operators fulfil requests across workspaces; workspace-facing callers
// compare WorkspaceID themselves.
func (db *DB) ScimKeyRequest(ctx context.Context, id string) (*latchkey.ScimKeyRequest, error) {
	r, err := scanScimRequest(db.pool.QueryRow(ctx, scimRequestSelect+`WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "SCIM key request")
	}
	return r, nil
}

// ScimKeyRequests lists requests newest first: of one workspace, or of
// every workspace when workspaceID is "" (the operators' queue); only the
// open ones when open is true.
func (db *DB) ScimKeyRequests(ctx context.Context, workspaceID string, open bool) ([]*latchkey.ScimKeyRequest, error) {
	if unmatchable(workspaceID) {
		return []*latchkey.ScimKeyRequest{}, nil
	}
	rows, err := db.pool.Query(ctx, scimRequestSelect+`
		WHERE ($1 = '' OR workspace_id = $1) AND (NOT $2 OR approved_at IS NULL)
		ORDER BY created_at DESC, id DESC`, workspaceID, open)
	if err != nil {
		return nil, wrap(err, "SCIM key requests")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.ScimKeyRequest, error) { return scanScimRequest(row) })
	if err != nil {
		return nil, wrap(err, "SCIM key requests")
	}
	return list, nil
}

// ApproveScimKeyRequest marks the request approved and records ev, in one
// transaction that holds the request's row: of two operators approving at
// once, the second gets ECONFLICT.
func (db *DB) ApproveScimKeyRequest(ctx context.Context, requestID, approvedBy string, at time.Time, ev latchkey.Event) (*latchkey.ScimKeyRequest, error) {
	var out *latchkey.ScimKeyRequest
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		r, err := scanScimRequest(tx.QueryRow(ctx, scimRequestSelect+`WHERE id = $1 FOR NO KEY UPDATE`, requestID))
		if err != nil {
			return notFound(err, "SCIM key request")
		}
		if r.ApprovedAt != nil {
			return latchkey.Errorf(latchkey.ECONFLICT, "SCIM key request %s was already approved", r.ID)
		}
		if _, err := tx.Exec(ctx, `UPDATE scim_key_requests SET approved_by = $1, approved_at = $2 WHERE id = $3`,
			approvedBy, at, requestID); err != nil {
			return wrap(err, "approve SCIM key request")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = r.WorkspaceID
		}
		r.ApprovedBy, r.ApprovedAt = approvedBy, utcPtr(&at)
		out = r
		return insertEvent(ctx, tx, &ev)
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
func (db *DB) IssueScimKey(ctx context.Context, requestID string, k *latchkey.Key, issuedBy string, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		r, err := scanScimRequest(tx.QueryRow(ctx, scimRequestSelect+`WHERE id = $1 FOR NO KEY UPDATE`, requestID))
		if err != nil {
			return notFound(err, "SCIM key request")
		}
		if err := checkIssue(r, k); err != nil {
			return err
		}
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE scim_key_requests SET key_id = $1, issued_by = $2, issued_at = $3
			WHERE id = $4`, k.ID, issuedBy, k.CreatedAt, requestID)
		if err != nil {
			return wrap(err, "issue SCIM key")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = r.WorkspaceID
		}
		return insertEvent(ctx, tx, &ev)
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
