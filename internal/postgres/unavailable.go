package postgres

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey"
)

// Unavailable classifies an error of this store by what the caller should
// answer: latchkey.ESTORAGE when PostgreSQL refuses writes for lack of
// resources (SQLSTATE class 53, such as 53100 disk_full) or because the
// server or transaction is read-only (25006 read_only_sql_transaction: a
// standby, or default_transaction_read_only); latchkey.EUNAVAILABLE when the
// server cannot be reached, is shutting down or has no connection left
// (network errors, class 08, 57P01-57P03, 53300); "" for any other error.
func Unavailable(err error) latchkey.Code {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53300": // too_many_connections: a busy server, not a full one
			return latchkey.EUNAVAILABLE
		case strings.HasPrefix(pe.Code, "53"), pe.Code == "25006":
			return latchkey.ESTORAGE
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			return latchkey.EUNAVAILABLE
		}
		return ""
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		pgconn.Timeout(err):
		return latchkey.EUNAVAILABLE
	}
	return ""
}
