package postgres

import (
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/sqlfilter"
)

// scimDialect is PostgreSQL's part of the SCIM filter translation. Custom
// attributes compare under the "C" collation, byte by byte, like the SCIM
// columns; the text functions' arguments carry casts so that PostgreSQL
// knows the parameters' types.
type scimDialect struct{}

var _ sqlfilter.Dialect = scimDialect{}

func (scimDialect) DocAttr(bind sqlfilter.Bind, name string) string {
	return "((s.attrs ->> " + bind(name) + "::text) COLLATE \"C\")"
}

func (scimDialect) Contains(bind sqlfilter.Bind, col, s string) string {
	return "strpos(" + col + ", " + bind(s) + "::text) > 0"
}

func (scimDialect) HasPrefix(bind sqlfilter.Bind, col, s string) string {
	return "left(" + col + ", " + bind(utf8.RuneCountInString(s)) + "::int) = " + bind(s) + "::text"
}

func (scimDialect) HasSuffix(bind sqlfilter.Bind, col, s string) string {
	return "right(" + col + ", " + bind(utf8.RuneCountInString(s)) + "::int) = " + bind(s) + "::text"
}
