package sqlstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

const eventSelect = `SELECT id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data,
	seq, prev_hash, hash FROM events `

func scanEvent(row Row) (*latchkey.Event, error) {
	var ev latchkey.Event
	var data, prev, hash []byte
	var seq *int64
	err := row.Scan(&ev.ID, &ev.WorkspaceID, &ev.At, &ev.Actor.Type, &ev.Actor.ID, &ev.Actor.Label,
		&ev.Action, &ev.Target, &ev.IP, &data, &seq, &prev, &hash)
	if err != nil {
		return nil, err
	}
	if data != nil {
		// Numbers stay json.Number, so that the event reads back exactly
		// as it was hashed.
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if err := d.Decode(&ev.Data); err != nil {
			return nil, fmt.Errorf("decode event data: %w", err)
		}
	}
	if seq != nil {
		ev.Seq, ev.PrevHash, ev.Hash = *seq, hex.EncodeToString(prev), hex.EncodeToString(hash)
	}
	return &ev, nil
}

// insertEvent writes ev in tx, linked to its workspace's chain. Every
// change records its event in its own transaction, so the log never misses
// a change nor shows one that failed.
func (s *Store) insertEvent(ctx context.Context, tx Conn, ev *latchkey.Event) error {
	if ev.ID == "" {
		return latchkey.Errorf(latchkey.EINVALID, "event without an id")
	}
	var data *string
	if len(ev.Data) > 0 {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return fmt.Errorf("encode event data: %w", err)
		}
		d := string(b)
		data = &d
	}
	seq, prev, err := s.lockChain(ctx, tx, ev.WorkspaceID)
	if err != nil {
		return err
	}
	hash, err := latchkey.ChainHash(prev, ev)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO events
		(id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data, seq, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.WorkspaceID, ev.At, ev.Actor.Type, ev.Actor.ID, ev.Actor.Label,
		ev.Action, ev.Target, ev.IP, data, seq+1, prev[:], hash[:])
	if s.isUnique(err, AnyConstraint) {
		return latchkey.Errorf(latchkey.ECONFLICT, "event %s already exists", ev.ID)
	}
	if err != nil {
		return s.wrap(err, "insert event")
	}
	ev.Seq, ev.PrevHash, ev.Hash = seq+1, hex.EncodeToString(prev[:]), hex.EncodeToString(hash[:])
	return s.advanceChain(ctx, tx, ev.WorkspaceID, seq+1, hash)
}

// lockChain returns the head of a workspace's chain, creating an empty
// one, with its row held for the rest of tx: the writers of one workspace
// link their events one after the other, on every instance.
func (s *Store) lockChain(ctx context.Context, tx Conn, workspaceID string) (int64, [32]byte, error) {
	var seq int64
	var hash []byte
	// The no-op update takes the row lock where a plain insert of an
	// existing row would not.
	err := tx.QueryRow(ctx, `INSERT INTO event_chains (workspace_id, seq, hash) VALUES (?, 0, ?)
		ON CONFLICT (workspace_id) DO UPDATE SET seq = event_chains.seq RETURNING seq, hash`,
		workspaceID, make([]byte, 32)).Scan(&seq, &hash)
	if err != nil {
		return 0, [32]byte{}, s.wrap(err, "event chain")
	}
	if len(hash) != 32 {
		return 0, [32]byte{}, fmt.Errorf("event chain %q has a malformed head", workspaceID)
	}
	return seq, [32]byte(hash), nil
}

func (s *Store) advanceChain(ctx context.Context, tx Conn, workspaceID string, seq int64, hash [32]byte) error {
	_, err := tx.Exec(ctx, `UPDATE event_chains SET seq = ?, hash = ? WHERE workspace_id = ?`, seq, hash[:], workspaceID)
	return s.wrap(err, "event chain")
}

// AppendEvent records an event that goes with no other change, such as a
// login or a secret reveal. ECONFLICT if its id exists.
func (s *Store) AppendEvent(ctx context.Context, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error { return s.insertEvent(ctx, tx, &ev) })
}

// eventConds returns the conditions of f but its cursor, or ok false
// when f can match nothing.
func eventConds(f latchkey.EventFilter) (c conds, ok bool) {
	if unmatchable(f.WorkspaceID, f.Action, f.Target, f.Actor) {
		return c, false
	}
	c.add("workspace_id = ?", f.WorkspaceID)
	switch {
	case strings.HasSuffix(f.Action, "."):
		// substr, not LIKE: LIKE folds case in SQLite and not in
		// PostgreSQL. substr counts characters, not bytes.
		c.add("substr(action, 1, ?) = ?", utf8.RuneCountInString(f.Action), f.Action)
	case f.Action != "":
		c.add("action = ?", f.Action)
	}
	if f.Target != "" {
		c.add("target = ?", f.Target)
	}
	switch {
	case strings.Contains(f.Actor, "@"):
		// People are recorded with their email as the label.
		c.add("actor_label = ?", strings.ToLower(strings.TrimSpace(f.Actor)))
	case f.Actor != "":
		c.add("actor_id = ?", f.Actor)
	}
	if f.From != nil {
		c.add("at >= ?", *f.From)
	}
	if f.To != nil {
		c.add("at <= ?", *f.To)
	}
	return c, true
}

// Events lists the events of f.WorkspaceID matching f, newest first, and
// the cursor of the next page ("" at the end). The workspace always
// filters: "" selects the platform events that belong to no workspace, so
// a caller that forgot the workspace never sees every tenant's log.
// EINVALID for a malformed cursor.
func (s *Store) Events(ctx context.Context, f latchkey.EventFilter) ([]*latchkey.Event, string, error) {
	c, ok := eventConds(f)
	if !ok {
		return []*latchkey.Event{}, "", nil
	}
	if f.Cursor != "" {
		after, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		c.add("id < ?", after)
	}
	limit := pageSize(f.Limit)
	// One row more than the page tells whether another page follows.
	rows, err := s.read.Query(ctx, eventSelect+`WHERE `+c.String()+` ORDER BY id DESC LIMIT ?`, append(c.args, limit+1)...)
	list, err := collect(rows, err, scanEvent)
	if err != nil {
		return nil, "", s.wrap(err, "events")
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = encodeCursor(list[limit-1].ID)
	}
	return list, next, nil
}

// EachEvent streams the events of f.WorkspaceID matching f in chain
// order, unsealed ones last; see latchkey.EventStore.
func (s *Store) EachEvent(ctx context.Context, f latchkey.EventFilter, fn func(*latchkey.Event) error) error {
	c, ok := eventConds(f)
	if !ok {
		return nil
	}
	rows, err := s.read.Query(ctx, eventSelect+`WHERE `+c.String()+` ORDER BY seq IS NULL, seq, id`, c.args...)
	if err != nil {
		return s.wrap(err, "events")
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return s.wrap(err, "events")
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	return s.wrap(rows.Err(), "events")
}

func scanHead(row Row) (latchkey.ChainHead, error) {
	var h latchkey.ChainHead
	var hash []byte
	err := row.Scan(&h.WorkspaceID, &h.Seq, &hash)
	h.Hash = hex.EncodeToString(hash)
	return h, err
}

// ChainHead returns one chain's head; an empty chain has Seq 0.
func (s *Store) ChainHead(ctx context.Context, workspaceID string) (latchkey.ChainHead, error) {
	h, err := scanHead(s.read.QueryRow(ctx, `SELECT workspace_id, seq, hash FROM event_chains WHERE workspace_id = ?`, workspaceID))
	if latchkey.ErrorCode(s.notFound(err, "")) == latchkey.ENOTFOUND {
		return latchkey.ChainHead{WorkspaceID: workspaceID, Hash: hex.EncodeToString(make([]byte, 32))}, nil
	}
	return h, s.wrap(err, "event chain")
}

// ChainHeads lists every chain's head, by workspace.
func (s *Store) ChainHeads(ctx context.Context) ([]latchkey.ChainHead, error) {
	rows, err := s.read.Query(ctx, `SELECT workspace_id, seq, hash FROM event_chains WHERE seq > 0 ORDER BY workspace_id`)
	list, err := collect(rows, err, scanHead)
	return list, s.wrap(err, "event chains")
}

// sealBatch bounds the events read at a time while sealing.
const sealBatch = 500

// SealEvents links the events an earlier release stored without a chain,
// oldest first; see latchkey.EventStore. It seals a workspace's events
// only while its chain is empty, in one transaction: once a chain has
// begun, an unlinked event is one the chain cannot vouch for (written by
// an older instance during a rolling upgrade, or inserted behind the
// store's back), and it stays unlinked for an audit to report.
func (s *Store) SealEvents(ctx context.Context) (int, error) {
	rows, err := s.read.Query(ctx, `SELECT DISTINCT workspace_id FROM events WHERE seq IS NULL`)
	workspaces, err := collect(rows, err, func(r Row) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	if err != nil {
		return 0, s.wrap(err, "seal events")
	}
	sealed := 0
	for _, ws := range workspaces {
		err := s.inTx(ctx, func(tx Conn) error {
			seq, prev, err := s.lockChain(ctx, tx, ws)
			if err != nil || seq > 0 {
				return err
			}
			for after := ""; ; {
				rows, err := tx.Query(ctx, eventSelect+`WHERE workspace_id = ? AND seq IS NULL AND id > ? ORDER BY id LIMIT ?`,
					ws, after, sealBatch)
				evs, err := collect(rows, err, scanEvent)
				if err != nil {
					return err
				}
				for _, ev := range evs {
					hash, err := latchkey.ChainHash(prev, ev)
					if err != nil {
						return err
					}
					seq++
					if _, err := tx.Exec(ctx, `UPDATE events SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?`,
						seq, prev[:], hash[:], ev.ID); err != nil {
						return err
					}
					prev, after = hash, ev.ID
				}
				if len(evs) < sealBatch {
					break
				}
			}
			sealed += int(seq)
			return s.advanceChain(ctx, tx, ws, seq, prev)
		})
		if err != nil {
			return sealed, s.wrap(err, "seal events")
		}
	}
	return sealed, nil
}
