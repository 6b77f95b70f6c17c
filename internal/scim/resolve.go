package scim

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// resolveFilter checks a parsed filter against what the stores can search
// for resource r and returns the domain's tree: canonical attribute names,
// values of the attribute's type, folded where SCIM compares without case.
func resolveFilter(r *resource, n node) (latchkey.ScimFilter, error) {
	switch n := n.(type) {
	case logicNode:
		l, err := resolveFilter(r, n.l)
		if err != nil {
			return nil, err
		}
		rt, err := resolveFilter(r, n.r)
		if err != nil {
			return nil, err
		}
		return latchkey.ScimLogic{Or: n.or, Left: l, Right: rt}, nil
	case notNode:
		x, err := resolveFilter(r, n.x)
		if err != nil {
			return nil, err
		}
		return latchkey.ScimNot{X: x}, nil
	case vpNode:
		multi, err := r.multiValued(n.path)
		if err != nil {
			return nil, err
		}
		if n.path.sub != "" {
			return nil, badFilter("a value path cannot name a sub-attribute before its filter")
		}
		inner, err := resolveSub(r, multi, n.filter)
		if err != nil {
			return nil, err
		}
		return latchkey.ScimValuePath{Attr: multi, Filter: inner}, nil
	case cmpNode:
		// emails.value eq "x" (and emails eq "x") test the elements of a
		// multi-valued attribute: a value path in disguise.
		if multi, err := r.multiValued(path{urn: n.path.urn, attr: n.path.attr}); err == nil {
			sub := n.path.sub
			if sub == "" {
				if n.op == "pr" {
					return latchkey.ScimValuePath{Attr: multi}, nil
				}
				sub = "value"
			}
			inner, err := resolveSub(r, multi, cmpNode{path: path{attr: sub}, op: n.op, val: n.val})
			if err != nil {
				return nil, err
			}
			return latchkey.ScimValuePath{Attr: multi, Filter: inner}, nil
		}
		name, kind, err := r.filterable(n.path)
		if err != nil {
			return nil, err
		}
		return compare(name, kind, n)
	}
	return nil, badFilter("unsupported filter")
}

// multiValued returns the canonical name of the multi-valued attribute
// filters may look into (emails of users, members of groups).
func (r *resource) multiValued(p path) (string, error) {
	want := "emails"
	if r == groupResource {
		want = "members"
	}
	if (p.urn == "" || strings.EqualFold(p.urn, r.core)) && strings.EqualFold(p.attr, want) {
		return want, nil
	}
	return "", badFilter("filtering inside %s is not supported; only %s[…] is", p.attr, want)
}

// filterable returns an attribute's canonical filter name and kind.
func (r *resource) filterable(p path) (string, latchkey.ScimAttrKind, error) {
	urn := p.urn
	if urn != "" {
		u, rest := r.splitURN(urn + ":" + p.attr)
		if u == "" || rest == "" || (!strings.EqualFold(u, r.core) && r.extension(u) == "") {
			return "", 0, badFilter("filtering on %s:%s is not supported", p.urn, p.attr)
		}
		urn = u
	}
	name := p.attr
	if p.sub != "" {
		name += "." + p.sub
	}
	if urn != "" && urn != r.core {
		name = urn + ":" + name
	}
	cols := latchkey.ScimUserColumns
	if r == groupResource {
		cols = latchkey.ScimGroupColumns
	}
	for c, kind := range cols {
		if strings.EqualFold(c, name) {
			return c, kind, nil
		}
	}
	if r == userResource {
		for _, a := range latchkey.ScimUserDocAttrs {
			if strings.EqualFold(a.Name, name) {
				return a.Name, a.Kind, nil
			}
			// manager is filtered by its value: manager eq "id".
			if strings.EqualFold(a.Name, name+".value") {
				return a.Name, a.Kind, nil
			}
			// Enterprise attributes may be named without their URN.
			if urn == "" && strings.EqualFold(a.Name, latchkey.ScimEnterpriseSchema+":"+name) {
				return a.Name, a.Kind, nil
			}
		}
	}
	return "", 0, badFilter("filtering on %s is not supported", name)
}

// resolveSub resolves the filter inside a value path, whose attributes are
// the sub-attributes of multi.
func resolveSub(r *resource, multi string, n node) (latchkey.ScimFilter, error) {
	switch n := n.(type) {
	case logicNode:
		l, err := resolveSub(r, multi, n.l)
		if err != nil {
			return nil, err
		}
		rt, err := resolveSub(r, multi, n.r)
		if err != nil {
			return nil, err
		}
		return latchkey.ScimLogic{Or: n.or, Left: l, Right: rt}, nil
	case notNode:
		x, err := resolveSub(r, multi, n.x)
		if err != nil {
			return nil, err
		}
		return latchkey.ScimNot{X: x}, nil
	case cmpNode:
		cols := latchkey.ScimEmailColumns
		if multi == "members" {
			cols = latchkey.ScimMemberColumns
		}
		if n.path.urn == "" && n.path.sub == "" {
			for c, kind := range cols {
				if strings.EqualFold(c, n.path.attr) {
					return compare(c, kind, n)
				}
			}
		}
		return nil, badFilter("filtering on %s.%s is not supported", multi, n.path.attr)
	}
	return nil, badFilter("value paths cannot nest")
}

// compare builds one comparison, with the value converted to the
// attribute's type; "eq null" means absent, as "not pr".
func compare(name string, kind latchkey.ScimAttrKind, n cmpNode) (latchkey.ScimFilter, error) {
	c := latchkey.ScimCompare{Attr: name, Kind: kind, Op: n.op}
	if n.op == "pr" {
		return c, nil
	}
	if n.val == nil {
		switch n.op {
		case "eq":
			c.Op = "pr"
			return latchkey.ScimNot{X: c}, nil
		case "ne":
			c.Op = "pr"
			return c, nil
		}
		return nil, badFilter("null can only be compared with eq or ne")
	}
	switch kind {
	case latchkey.ScimBool:
		b, ok := n.val.(bool)
		if s, isStr := n.val.(string); isStr {
			b, ok = strings.EqualFold(s, "true"), strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
		}
		if !ok || (n.op != "eq" && n.op != "ne") {
			return nil, badFilter("%s is a boolean: compare it with eq or ne and true or false", name)
		}
		c.Value = b
	case latchkey.ScimTime:
		s, _ := n.val.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || n.op == "co" || n.op == "sw" || n.op == "ew" {
			return nil, badFilter("%s is a dateTime: compare it with eq, ne, gt, ge, lt or le and an RFC 3339 time", name)
		}
		c.Value = t.UTC()
	default:
		var s string
		switch v := n.val.(type) {
		case string:
			s = v
		case json.Number:
			s = string(v)
		default:
			return nil, badFilter("%s is a string: compare it with a quoted string", name)
		}
		if kind == latchkey.ScimFolded {
			s = strings.ToLower(s)
		}
		c.Value = s
	}
	return c, nil
}
