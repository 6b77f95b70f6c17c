package sqlstore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// marshal encodes v as JSON text; empty is what nil becomes, so that a nil
// slice or map reads back as an empty one rather than JSON null.
func marshal(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

func unmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// Page sizes of the lists.
const (
	defaultLimit = 50
	maxLimit     = 200
)

func pageSize(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

// A cursor is the id of the last row of a page, base64url-encoded so that
// clients treat it as opaque.
func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 100 || unmatchable(string(b)) {
		return "", latchkey.Errorf(latchkey.EINVALID, "invalid cursor").WithDetail("field", "cursor")
	}
	return string(b), nil
}

// escapeLike escapes LIKE's wildcards so user input matches literally
// (with ESCAPE '\').
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// unmatchable reports whether a filter string cannot equal or be part of
// any stored text: ids and names are valid UTF-8 without NUL. PostgreSQL
// would refuse to compare with such a string where SQLite finds nothing;
// answering "nothing" first gives both the same behaviour.
func unmatchable(strs ...string) bool {
	for _, s := range strs {
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			return true
		}
	}
	return false
}

// conds collects the conditions of a WHERE clause and their arguments.
type conds struct {
	where []string
	args  []any
}

func (c *conds) add(cond string, args ...any) {
	c.where = append(c.where, cond)
	c.args = append(c.args, args...)
}

func (c *conds) String() string { return strings.Join(c.where, " AND ") }

// maxInList bounds the values of one IN list or multi-row VALUES, well
// within every database's limit on bound parameters.
const maxInList = 500

// params returns n comma-separated placeholders.
func params(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
