package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

const scimRequestColumns = `id, workspace_id, contact_email, integration, requested_by, created_at,
	approved_by, approved_at, key_id, issued_by, issued_at`

func scanScimRequest(row interface{ Scan(...any) error }) (*latchkey.ScimKeyRequest, error) {
	var r latchkey.ScimKeyRequest
	var created int64
	var approved, issued sql.NullInt64
	err := row.Scan(&r.ID, &r.WorkspaceID, &r.ContactEmail, &r.Integration, &r.RequestedBy, &created,
		&r.ApprovedBy, &approved, &r.KeyID, &r.IssuedBy, &issued)
	if err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicros(created)
	r.ApprovedAt = fromNullMicros(approved)
	r.IssuedAt = fromNullMicros(issued)
	return &r, nil
}

// CreateScimKeyRequest stores an open request and records ev. EINVALID if
// r is already marked issued, ECONFLICT if its id exists, ENOTFOUND if its
// workspace does not.
func (db *DB) CreateScimKeyRequest(ctx context.Context, r *latchkey.ScimKeyRequest, ev latchkey.Event) error {
	if r.KeyID != "" || r.IssuedBy != "" || r.IssuedAt != nil || r.ApprovedBy != "" || r.ApprovedAt != nil {
		return latchkey.Errorf(latchkey.EINVALID, "a new SCIM key request cannot be approved or issued already")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scim_key_requests
			(id, workspace_id, contact_email, integration, requested_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.ID, r.WorkspaceID, r.ContactEmail, r.Integration, r.RequestedBy, micros(r.CreatedAt))
		switch {
		case isUnique(err, ""):
			return latchkey.Errorf(latchkey.ECONFLICT, "SCIM key request %s already exists", r.ID)
		case isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		case err != nil:
			return fmt.Errorf("sqlite: create SCIM key request: %w", err)
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
	r, err := scanScimRequest(db.read.QueryRowContext(ctx,
		`SELECT `+scimRequestColumns+` FROM scim_key_requests WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "SCIM key request")
	}
	return r, nil
}

// ScimKeyRequests lists requests newest first: of one workspace, or of
// every workspace when workspaceID is "" (the operators' queue); only the
// open ones when open is true.
func (db *DB) ScimKeyRequests(ctx context.Context, workspaceID string, open bool) ([]*latchkey.ScimKeyRequest, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+scimRequestColumns+` FROM scim_key_requests
		WHERE (? = '' OR workspace_id = ?) AND (NOT ? OR approved_at IS NULL)
		ORDER BY created_at DESC, id DESC`, workspaceID, workspaceID, open)
	if err != nil {
		return nil, fmt.Errorf("sqlite: SCIM key requests: %w", err)
	}
	defer rows.Close()
	list := []*latchkey.ScimKeyRequest{}
	for rows.Next() {
		r, err := scanScimRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: SCIM key requests: %w", err)
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: SCIM key requests: %w", err)
	}
	return list, nil
}

// ApproveScimKeyRequest marks the request approved and records ev, in one
// transaction (the single writer makes a second approval see the first
// and get ECONFLICT).
func (db *DB) ApproveScimKeyRequest(ctx context.Context, requestID, approvedBy string, at time.Time, ev latchkey.Event) (*latchkey.ScimKeyRequest, error) {
	var out *latchkey.ScimKeyRequest
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanScimRequest(tx.QueryRowContext(ctx,
			`SELECT `+scimRequestColumns+` FROM scim_key_requests WHERE id = ?`, requestID))
		if err != nil {
			return notFound(err, "SCIM key request")
		}
		if r.ApprovedAt != nil {
			return latchkey.Errorf(latchkey.ECONFLICT, "SCIM key request %s was already approved", r.ID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scim_key_requests SET approved_by = ?, approved_at = ? WHERE id = ?`,
			approvedBy, micros(at), requestID); err != nil {
			return fmt.Errorf("sqlite: approve SCIM key request: %w", err)
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = r.WorkspaceID
		}
		r.ApprovedBy, r.ApprovedAt = approvedBy, fromNullMicros(sql.NullInt64{Int64: micros(at), Valid: true})
		out = r
		return insertEvent(ctx, tx, &ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IssueScimKey creates k, marks the request issued with it by issuedBy at
// k.CreatedAt and records ev, in one transaction: a key that cannot be
// stored leaves the request open. k must be a SCIM key of the request's
// workspace (an empty WorkspaceID is set to it); EINVALID otherwise.
// ENOTFOUND if there is no such request, ECONFLICT if it was already
// issued or k's id or hash exists.
func (db *DB) IssueScimKey(ctx context.Context, requestID string, k *latchkey.Key, issuedBy string, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanScimRequest(tx.QueryRowContext(ctx,
			`SELECT `+scimRequestColumns+` FROM scim_key_requests WHERE id = ?`, requestID))
		if err != nil {
			return notFound(err, "SCIM key request")
		}
		if err := checkIssue(r, k); err != nil {
			return err
		}
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE scim_key_requests SET key_id = ?, issued_by = ?, issued_at = ?
			WHERE id = ?`, k.ID, issuedBy, micros(k.CreatedAt), requestID)
		if err != nil {
			return fmt.Errorf("sqlite: issue SCIM key: %w", err)
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
