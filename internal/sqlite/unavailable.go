package sqlite

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey"
)

// Unavailable classifies an error of this store by what the caller should
// answer: latchkey.ESTORAGE when the database cannot take writes (the disk
// is full, the file or its directory is read-only, or the disk fails),
// latchkey.EUNAVAILABLE when the database stayed locked past busy_timeout
// or cannot be opened, and "" for any other error, which is then the
// store's own (not found, conflict) or a bug.
func Unavailable(err error) latchkey.Code {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	// Extended result codes keep the primary code in the low byte.
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR:
		return latchkey.ESTORAGE
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN:
		return latchkey.EUNAVAILABLE
	}
	return ""
}
