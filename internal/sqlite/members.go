package sqlite

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey"
)

// Members carry the user's email and name, so the console and SCIM can show
// them without a query per member.
const memberSelect = `SELECT m.workspace_id, m.user_id, u.email, u.name, m.role, m.active, m.created_at
	FROM members m JOIN users u ON u.id = m.user_id `

func scanMember(row interface{ Scan(...any) error }) (*latchkey.Member, error) {
	var m latchkey.Member
	var created int64
	if err := row.Scan(&m.WorkspaceID, &m.UserID, &m.Email, &m.Name, &m.Role, &m.Active, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

// Member returns one membership; ENOTFOUND if the user is not a member.
func (db *DB) Member(ctx context.Context, workspaceID, userID string) (*latchkey.Member, error) {
	m, err := scanMember(db.read.QueryRowContext(ctx,
		memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID))
	if err != nil {
		return nil, notFound(err, "member")
	}
	return m, nil
}

// Members lists a workspace's members, oldest first; an unknown workspace
// has none.
func (db *DB) Members(ctx context.Context, workspaceID string) ([]*latchkey.Member, error) {
	return db.queryMembers(ctx, `WHERE m.workspace_id = ? ORDER BY m.created_at, m.user_id`, workspaceID)
}

func (db *DB) queryMembers(ctx context.Context, where string, args ...any) ([]*latchkey.Member, error) {
	rows, err := db.read.QueryContext(ctx, memberSelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	defer rows.Close()
	list := []*latchkey.Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: members: %w", err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	return list, nil
}
