package postgres

import (
	"context"
	"encoding/hex"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

// InvalidationChannel is where the database announces the changes that
// matter to verification: migration 00003's triggers for changed keys and
// members, AnnounceKeyHash for new secrets.
const InvalidationChannel = "latchkey_invalidate"

// KeyHashPrefix starts the payload that announces a new secret: the hex of
// the first 8 bytes of its SHA-256, all a membership set keeps. The whole
// hash, the store's lookup key for a live secret, never leaves the database.
const KeyHashPrefix = "hash:"

var _ sqlstore.KeyHashAnnouncer = dialect{}

// AnnounceKeyHash notifies every instance of h's prefix at the commit of
// tx, in commit order with every other notification.
func (dialect) AnnounceKeyHash(ctx context.Context, tx sqlstore.Conn, h [32]byte) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify(?, ?)`, InvalidationChannel, KeyHashPrefix+hex.EncodeToString(h[:8]))
	return err
}
