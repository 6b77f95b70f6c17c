package postgres

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// scimWhere translates a SCIM filter tree into a parameterised SQL
// condition over scim_users s JOIN members m, or scim_groups g. Values only
// ever travel as arguments; the SQL text comes from this file's constants
// and the attribute tables of the root package.
type scimWhere struct {
	b      strings.Builder
	args   []any
	groups bool
}

func (w *scimWhere) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func badFilter(format string, args ...any) error {
	return latchkey.Errorf(latchkey.EINVALID, format, args...).WithDetail("scim_type", "invalidFilter")
}

func (w *scimWhere) filter(f latchkey.ScimFilter) error {
	switch f := f.(type) {
	case latchkey.ScimLogic:
		op := " AND "
		if f.Or {
			op = " OR "
		}
		w.b.WriteString("(")
		if err := w.filter(f.Left); err != nil {
			return err
		}
		w.b.WriteString(op)
		if err := w.filter(f.Right); err != nil {
			return err
		}
		w.b.WriteString(")")
	case latchkey.ScimNot:
		w.b.WriteString("NOT (")
		if err := w.filter(f.X); err != nil {
			return err
		}
		w.b.WriteString(")")
	case latchkey.ScimCompare:
		col, kind, ok := w.column(f.Attr)
		if !ok {
			return badFilter("the attribute %s cannot be filtered on", f.Attr)
		}
		return w.compare(col, kind, f)
	case latchkey.ScimValuePath:
		return w.valuePath(f)
	default:
		return badFilter("unsupported filter")
	}
	return nil
}

// column maps a top-level attribute to its SQL expression.
func (w *scimWhere) column(attr string) (string, latchkey.ScimAttrKind, bool) {
	if w.groups {
		cols := map[string]string{"id": "g.id", "displayName": "g.display_name_lower", "externalId": "g.external_id",
			"meta.created": "g.created_at", "meta.lastModified": "g.updated_at"}
		c, ok := cols[attr]
		return c, latchkey.ScimGroupColumns[attr], ok
	}
	cols := map[string]string{"id": "s.user_id", "userName": "s.user_name_lower", "externalId": "s.external_id",
		"active": "m.active", "meta.created": "s.created_at", "meta.lastModified": "s.updated_at"}
	if c, ok := cols[attr]; ok {
		return c, latchkey.ScimUserColumns[attr], true
	}
	for _, a := range latchkey.ScimUserDocAttrs {
		if a.Name == attr {
			return "((s.attrs ->> " + w.arg(a.Name) + "::text) COLLATE \"C\")", a.Kind, true
		}
	}
	return "", 0, false
}

func (w *scimWhere) valuePath(f latchkey.ScimValuePath) error {
	var subs map[string]latchkey.ScimAttrKind
	var cols map[string]string
	switch {
	case !w.groups && f.Attr == "emails":
		w.b.WriteString("EXISTS (SELECT 1 FROM scim_emails e WHERE e.workspace_id = s.workspace_id AND e.user_id = s.user_id")
		subs, cols = latchkey.ScimEmailColumns, map[string]string{"value": "e.value_lower", "type": "e.type_lower", "primary": "e.is_primary"}
	case w.groups && f.Attr == "members":
		w.b.WriteString("EXISTS (SELECT 1 FROM scim_group_members gm WHERE gm.group_id = g.id")
		subs, cols = latchkey.ScimMemberColumns, map[string]string{"value": "gm.user_id"}
	default:
		return badFilter("the attribute %s cannot be filtered on", f.Attr)
	}
	if f.Filter != nil {
		w.b.WriteString(" AND ")
		sub := &scimWhere{args: w.args, groups: w.groups} // numbering continues
		if err := sub.subFilter(f.Filter, subs, cols); err != nil {
			return err
		}
		w.args = sub.args
		w.b.WriteString(sub.b.String())
	}
	w.b.WriteString(")")
	return nil
}

// subFilter translates the filter inside a value path, whose attributes
// are the element's sub-attributes.
func (w *scimWhere) subFilter(f latchkey.ScimFilter, subs map[string]latchkey.ScimAttrKind, cols map[string]string) error {
	switch f := f.(type) {
	case latchkey.ScimLogic:
		op := " AND "
		if f.Or {
			op = " OR "
		}
		w.b.WriteString("(")
		if err := w.subFilter(f.Left, subs, cols); err != nil {
			return err
		}
		w.b.WriteString(op)
		if err := w.subFilter(f.Right, subs, cols); err != nil {
			return err
		}
		w.b.WriteString(")")
		return nil
	case latchkey.ScimNot:
		w.b.WriteString("NOT (")
		if err := w.subFilter(f.X, subs, cols); err != nil {
			return err
		}
		w.b.WriteString(")")
		return nil
	case latchkey.ScimCompare:
		col, ok := cols[f.Attr]
		if !ok {
			return badFilter("the sub-attribute %s cannot be filtered on", f.Attr)
		}
		return w.compare(col, subs[f.Attr], f)
	}
	return badFilter("value paths cannot nest")
}

// compare writes one comparison. Every comparison is true or false, never
// NULL, so that "not" of a comparison on an absent attribute is true.
func (w *scimWhere) compare(col string, kind latchkey.ScimAttrKind, c latchkey.ScimCompare) error {
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
			w.b.WriteString("COALESCE(strpos(" + col + ", " + w.arg(s) + "::text) > 0, FALSE)")
		case c.Op == "sw":
			w.b.WriteString("COALESCE(left(" + col + ", " + w.arg(utf8.RuneCountInString(s)) + "::int) = " + w.arg(s) + "::text, FALSE)")
		default:
			w.b.WriteString("COALESCE(right(" + col + ", " + w.arg(utf8.RuneCountInString(s)) + "::int) = " + w.arg(s) + "::text, FALSE)")
		}
	default:
		return badFilter("unknown operator %q", c.Op)
	}
	return nil
}
