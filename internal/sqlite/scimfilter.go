package sqlite

import (
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/sqlfilter"
)

// scimDialect is SQLite's part of the SCIM filter translation: custom
// attributes are read with json_extract, and substr counts characters from the end when its start is negative.
type scimDialect struct{}

var _ sqlfilter.Dialect = scimDialect{}

func (scimDialect) DocAttr(bind sqlfilter.Bind, name string) string {
	return "json_extract(s.attrs, " + bind(`$."`+name+`"`) + ")"
}

func (scimDialect) Contains(bind sqlfilter.Bind, col, s string) string {
	return "instr(" + col + ", " + bind(s) + ") > 0"
}

func (scimDialect) HasPrefix(bind sqlfilter.Bind, col, s string) string {
	return "substr(" + col + ", 1, " + bind(utf8.RuneCountInString(s)) + ") = " + bind(s)
}

func (scimDialect) HasSuffix(bind sqlfilter.Bind, col, s string) string {
	return "substr(" + col + ", " + bind(-utf8.RuneCountInString(s)) + ") = " + bind(s)
}
