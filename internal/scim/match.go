package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// match evaluates a value filter on one element of a multi-valued
// attribute (PATCH's emails[type eq "work"]). Strings compare without case,
// which is what every sub-attribute latchkey keeps allows.
func match(n node, elem map[string]any) (bool, error) {
	switch n := n.(type) {
	case logicNode:
		l, err := match(n.l, elem)
		if err != nil {
			return false, err
		}
		if l == n.or {
			return l, nil
		}
		return match(n.r, elem)
	case notNode:
		x, err := match(n.x, elem)
		return !x, err
	case cmpNode:
		if n.path.urn != "" || n.path.sub != "" {
			return false, invalid("invalidPath", "a value filter names sub-attributes only, not %s.%s", n.path.attr, n.path.sub)
		}
		var v any
		for k, x := range elem {
			if strings.EqualFold(k, n.path.attr) {
				v = x
			}
		}
		return compareValue(v, n.op, n.val), nil
	}
	return false, invalid("invalidPath", "value filters cannot nest")
}

func compareValue(have any, op string, want any) bool {
	if op == "pr" {
		s, isStr := have.(string)
		return have != nil && (!isStr || s != "")
	}
	if have == nil {
		return op == "ne" && want != nil
	}
	hb, hIsBool := asBool(have)
	wb, wIsBool := asBool(want)
	if hIsBool && wIsBool {
		switch op {
		case "eq":
			return hb == wb
		case "ne":
			return hb != wb
		}
		return false
	}
	h, w := strings.ToLower(text(have)), strings.ToLower(text(want))
	switch op {
	case "eq":
		return h == w
	case "ne":
		return h != w
	case "co":
		return strings.Contains(h, w)
	case "sw":
		return strings.HasPrefix(h, w)
	case "ew":
		return strings.HasSuffix(h, w)
	case "gt":
		return h > w
	case "ge":
		return h >= w
	case "lt":
		return h < w
	case "le":
		return h <= w
	}
	return false
}

// asBool reads a boolean, also as Entra writes it ("True").
func asBool(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		if b, err := strconv.ParseBool(strings.ToLower(v)); err == nil && (strings.EqualFold(v, "true") || strings.EqualFold(v, "false")) {
			return b, true
		}
	}
	return false, false
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// equalities returns the sub-attribute values a filter of "eq"s joined by
// "and" requires, so that a PATCH may create the element it targets
// (Entra replaces emails[type eq "work"].value on a user without one).
func equalities(n node) (map[string]any, bool) {
	switch n := n.(type) {
	case cmpNode:
		if n.op != "eq" || n.path.urn != "" || n.path.sub != "" || n.val == nil {
			return nil, false
		}
		return map[string]any{n.path.attr: n.val}, true
	case logicNode:
		if n.or {
			return nil, false
		}
		l, ok := equalities(n.l)
		if !ok {
			return nil, false
		}
		r, ok := equalities(n.r)
		if !ok {
			return nil, false
		}
		for k, v := range r {
			l[k] = v
		}
		return l, true
	}
	return nil, false
}
