// Package sqlfilter translates a parsed SCIM filter into a parameterised SQL
// condition over the stores' SCIM tables. Both stores keep those tables in
// the same shape, so the walk of the filter tree is written once, here, and
// each store supplies a Dialect for the few expressions its SQL spells
// differently. Values only ever travel as arguments; the SQL text comes from
// this package's constants, the Dialect, and the attribute tables of the root
// package.
package sqlfilter

import (
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// Bind appends v to the condition's arguments and returns its placeholder,
// always "?": the store rebinds placeholders for its database in one place.
type Bind func(v any) string

// Dialect is what a store's SQL spells its own way. The expressions it
// returns may be NULL when col is NULL: the walk wraps them so that every
// comparison is true or false.
type Dialect interface {
	// DocAttr returns the expression reading the custom attribute name from
	// the JSON object s.attrs, as text.
	DocAttr(bind Bind, name string) string
	// Contains, HasPrefix and HasSuffix return a condition on the text col
	// and the non-empty string s (compared character by character).
	Contains(bind Bind, col, s string) string
	HasPrefix(bind Bind, col, s string) string
	HasSuffix(bind Bind, col, s string) string
}

// Users returns the condition selecting q's users, over scim_users s JOIN
// members m, and its arguments. An unfilterable filter is EINVALID with the
// SCIM type invalidFilter.
func Users(d Dialect, q latchkey.ScimQuery) (string, []any, error) {
	return where(d, q, false)
}

// Groups returns the condition selecting q's groups, over scim_groups g,
// and its arguments; errors as for Users.
func Groups(d Dialect, q latchkey.ScimQuery) (string, []any, error) {
	return where(d, q, true)
}

func where(d Dialect, q latchkey.ScimQuery, groups bool) (string, []any, error) {
	w := &walker{d: d, groups: groups}
	if groups {
		w.b.WriteString("g.workspace_id = " + w.arg(q.WorkspaceID))
	} else {
		w.b.WriteString("s.workspace_id = " + w.arg(q.WorkspaceID))
	}
	if q.Filter != nil {
		w.b.WriteString(" AND ")
		if err := w.filter(q.Filter, nil); err != nil {
			return "", nil, err
		}
	}
	return w.b.String(), w.args, nil
}

var (
	userColumns = map[string]string{"id": "s.user_id", "userName": "s.user_name_lower", "externalId": "s.external_id",
		"active": "m.active", "meta.created": "s.created_at", "meta.lastModified": "s.updated_at"}
	groupColumns = map[string]string{"id": "g.id", "displayName": "g.display_name_lower", "externalId": "g.external_id",
		"meta.created": "g.created_at", "meta.lastModified": "g.updated_at"}
)

// element is the multi-valued attribute a value path's filter is about.
type element struct {
	kinds map[string]latchkey.ScimAttrKind
	cols  map[string]string
}

var (
	emails = &element{latchkey.ScimEmailColumns,
		map[string]string{"value": "e.value_lower", "type": "e.type_lower", "primary": "e.is_primary"}}
	members = &element{latchkey.ScimMemberColumns, map[string]string{"value": "gm.user_id"}}
)

type walker struct {
	d      Dialect
	b      strings.Builder
	args   []any
	groups bool
}

func (w *walker) arg(v any) string {
	w.args = append(w.args, v)
	return "?"
}

func badFilter(format string, args ...any) error {
	return latchkey.Errorf(latchkey.EINVALID, format, args...).WithDetail("scim_type", "invalidFilter")
}

// filter writes f. Inside a value path, el is the element whose
// sub-attributes the comparisons name; at the top, el is nil.
func (w *walker) filter(f latchkey.ScimFilter, el *element) error {
	switch f := f.(type) {
	case latchkey.ScimLogic:
		op := " AND "
		if f.Or {
			op = " OR "
		}
		w.b.WriteString("(")
		if err := w.filter(f.Left, el); err != nil {
			return err
		}
		w.b.WriteString(op)
		if err := w.filter(f.Right, el); err != nil {
			return err
		}
		w.b.WriteString(")")
		return nil
	case latchkey.ScimNot:
		w.b.WriteString("NOT (")
		if err := w.filter(f.X, el); err != nil {
			return err
		}
		w.b.WriteString(")")
		return nil
	case latchkey.ScimCompare:
		if el != nil {
			col, ok := el.cols[f.Attr]
			if !ok {
				return badFilter("the sub-attribute %s cannot be filtered on", f.Attr)
			}
			return w.compare(col, el.kinds[f.Attr], f)
		}
		col, kind, ok := w.column(f.Attr)
		if !ok {
			return badFilter("the attribute %s cannot be filtered on", f.Attr)
		}
		return w.compare(col, kind, f)
	case latchkey.ScimValuePath:
		if el == nil {
			return w.valuePath(f)
		}
	}
	if el != nil {
		return badFilter("value paths cannot nest")
	}
	return badFilter("unsupported filter")
}

// column maps a top-level attribute to its SQL expression.
func (w *walker) column(attr string) (string, latchkey.ScimAttrKind, bool) {
	if w.groups {
		c, ok := groupColumns[attr]
		return c, latchkey.ScimGroupColumns[attr], ok
	}
	if c, ok := userColumns[attr]; ok {
		return c, latchkey.ScimUserColumns[attr], true
	}
	for _, a := range latchkey.ScimUserDocAttrs {
		if a.Name == attr {
			return w.d.DocAttr(w.arg, a.Name), a.Kind, true
		}
	}
	return "", 0, false
}

func (w *walker) valuePath(f latchkey.ScimValuePath) error {
	var el *element
	switch {
	case !w.groups && f.Attr == "emails":
		w.b.WriteString("EXISTS (SELECT 1 FROM scim_emails e WHERE e.workspace_id = s.workspace_id AND e.user_id = s.user_id")
		el = emails
	case w.groups && f.Attr == "members":
		w.b.WriteString("EXISTS (SELECT 1 FROM scim_group_members gm WHERE gm.group_id = g.id")
		el = members
	default:
		return badFilter("the attribute %s cannot be filtered on", f.Attr)
	}
	if f.Filter != nil {
		w.b.WriteString(" AND ")
		if err := w.filter(f.Filter, el); err != nil {
			return err
		}
	}
	w.b.WriteString(")")
	return nil
}

// compare writes one comparison. Every comparison is true or false, never
// NULL, so that "not" of a comparison on an absent attribute is true.
func (w *walker) compare(col string, kind latchkey.ScimAttrKind, c latchkey.ScimCompare) error {
	if c.Op == "pr" {
		if kind == latchkey.ScimFolded || kind == latchkey.ScimExact {
			w.b.WriteString("COALESCE(" + col + " <> '', FALSE)")
		} else {
			w.b.WriteString("(" + col + " IS NOT NULL)")
		}
		return nil
	}
	var val any
	switch kind {
	case latchkey.ScimBool:
		b, ok := c.Value.(bool)
		if !ok || (c.Op != "eq" && c.Op != "ne") {
			return badFilter("%s is a boolean: compare it with eq or ne and true or false", c.Attr)
		}
		val = b
	case latchkey.ScimTime:
		t, ok := c.Value.(time.Time)
		if !ok || c.Op == "co" || c.Op == "sw" || c.Op == "ew" {
			return badFilter("%s is a dateTime: compare it with eq, ne, gt, ge, lt or le and an RFC 3339 time", c.Attr)
		}
		val = t
	default:
		s, ok := c.Value.(string)
		if !ok {
			return badFilter("%s is a string: compare it with a quoted string", c.Attr)
		}
		val = s
	}
	s, _ := val.(string)
	switch c.Op {
	case "eq":
		w.b.WriteString("COALESCE(" + col + " = " + w.arg(val) + ", FALSE)")
	case "ne":
		w.b.WriteString("NOT COALESCE(" + col + " = " + w.arg(val) + ", FALSE)")
	case "gt", "ge", "lt", "le":
		op := map[string]string{"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[c.Op]
		w.b.WriteString("COALESCE(" + col + " " + op + " " + w.arg(val) + ", FALSE)")
	case "co", "sw", "ew":
		switch {
		case s == "":
			w.b.WriteString("(" + col + " IS NOT NULL)")
		case c.Op == "co":
			w.b.WriteString("COALESCE(" + w.d.Contains(w.arg, col, s) + ", FALSE)")
		case c.Op == "sw":
			w.b.WriteString("COALESCE(" + w.d.HasPrefix(w.arg, col, s) + ", FALSE)")
		default:
			w.b.WriteString("COALESCE(" + w.d.HasSuffix(w.arg, col, s) + ", FALSE)")
		}
	default:
		return badFilter("unknown operator %q", c.Op)
	}
	return nil
}
