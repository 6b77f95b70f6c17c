package scim

import (
	"strings"
)

// op is one PATCH operation, its name lower-cased (Entra writes "Replace").
type op struct {
	name  string
	path  string
	value any
}

// maxOps bounds the operations of one PATCH.
const maxOps = 1000

// decodePatch reads a PatchOp message (RFC 7644 §3.5.2).
func decodePatch(body map[string]any) ([]op, error) {
	var raw any
	for k, v := range body {
		if strings.EqualFold(k, "Operations") {
			raw = v
		}
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, invalid("invalidSyntax", "a PATCH needs a non-empty Operations list")
	}
	if len(list) > maxOps {
		return nil, invalid("tooMany", "at most %d operations per PATCH", maxOps)
	}
	ops := make([]op, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, invalid("invalidSyntax", "operation %d is not an object", i)
		}
		var o op
		for k, v := range m {
			switch strings.ToLower(k) {
			case "op":
				s, _ := v.(string)
				o.name = strings.ToLower(s)
			case "path":
				s, ok := v.(string)
				if !ok && v != nil {
					return nil, invalid("invalidPath", "operation %d: path must be a string", i)
				}
				o.path = strings.TrimSpace(s)
			case "value":
				o.value = v
			}
		}
		if o.name != "add" && o.name != "replace" && o.name != "remove" {
			return nil, invalid("invalidSyntax", "operation %d: op must be add, replace or remove", i)
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// applyPatch applies ops to doc in order; the first that cannot apply
// fails the whole PATCH (the caller discards doc).
func applyPatch(r *resource, doc map[string]any, ops []op, custom bool) error {
	for _, o := range ops {
		if err := applyOp(r, doc, o, custom); err != nil {
			return err
		}
	}
	return nil
}

func applyOp(r *resource, doc map[string]any, o op, custom bool) error {
	if o.path != "" {
		p, err := parsePatchPath(r, o.path)
		if err != nil {
			return err
		}
		return applyOne(r, doc, o.name, p, o.value, custom)
	}
	if o.name == "remove" {
		return invalid("noTarget", "remove needs a path")
	}
	m, ok := o.value.(map[string]any)
	if !ok {
		return invalid("invalidValue", "%s without a path needs an object value", o.name)
	}
	// Path-less: each key is a path of its own ("name.givenName", a URN
	// attribute, or a whole extension object).
	for k, v := range m {
		switch strings.ToLower(k) {
		case "schemas", "id", "meta":
			continue // Okta's group rename repeats the id
		}
		p, err := parsePatchPath(r, k)
		if err != nil {
			return err
		}
		if err := applyOne(r, doc, o.name, p, v, custom); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(r *resource, doc map[string]any, name string, p patchPath, value any, custom bool) error {
	if p.urn != "" && p.def == nil && r.extension(p.urn) == "" && !custom {
		return nil // custom attributes are off: ignored, as on create
	}
	if name != "remove" && value == nil {
		return invalid("invalidValue", "%s needs a value", name)
	}
	container := doc
	if p.urn != "" {
		m, _ := doc[p.urn].(map[string]any)
		if m == nil {
			if name == "remove" {
				return nil
			}
			m = map[string]any{}
			doc[p.urn] = m
		}
		container = m
	}
	if p.attr == "" { // a whole extension
		if name == "remove" {
			delete(doc, p.urn)
			return nil
		}
		vm, ok := value.(map[string]any)
		if !ok {
			return invalid("invalidValue", "%s must be an object", p.urn)
		}
		for k, v := range vm {
			sp, err := parsePatchPath(r, p.urn+":"+k)
			if err != nil {
				return err
			}
			if err := applyOne(r, doc, name, sp, v, custom); err != nil {
				return err
			}
		}
		return nil
	}
	var subs []attr
	multi, complexAttr := false, false
	if p.def != nil {
		subs, multi, complexAttr = p.def.Subs, p.def.Multi, p.def.Type == "complex"
	}
	cur := container[p.attr]
	switch {
	case p.filter != nil:
		return applyFiltered(container, name, p, subs, value)
	case p.sub != "" && multi: // emails.value without a filter: every element
		arr := elements(cur)
		if name != "remove" && len(arr) == 0 {
			arr = []any{map[string]any{}}
		}
		for _, e := range arr {
			if name == "remove" {
				delete(e.(map[string]any), p.sub)
			} else {
				e.(map[string]any)[p.sub] = value
			}
		}
		setOrDelete(container, p.attr, arr)
	case p.sub != "":
		m, _ := cur.(map[string]any)
		if name == "remove" {
			if m != nil {
				delete(m, p.sub)
			}
			return nil
		}
		if m == nil {
			m = map[string]any{}
			container[p.attr] = m
		}
		m[p.sub] = value
	case name == "remove" && multi && value != nil:
		// Entra's legacy member removal: path "members", the members to
		// remove as the value; only those go.
		gone := map[string]bool{}
		for _, e := range elements(value) {
			gone[strings.ToLower(text(canon(subs, e)["value"]))] = true
		}
		var keep []any
		for _, e := range elements(cur) {
			if !gone[strings.ToLower(text(e.(map[string]any)["value"]))] {
				keep = append(keep, e)
			}
		}
		setOrDelete(container, p.attr, keep)
	case name == "remove":
		delete(container, p.attr)
	case multi && name == "add":
		arr := elements(cur)
		for _, e := range elements(value) {
			arr = appendNew(arr, canon(subs, e))
		}
		container[p.attr] = arr
	case multi:
		var arr []any
		for _, e := range elements(value) {
			arr = appendNew(arr, canon(subs, e))
		}
		setOrDelete(container, p.attr, arr)
	case complexAttr:
		// RFC 7644 §3.5.2.1 and .3: sub-attributes not given stay.
		m, _ := cur.(map[string]any)
		vm, ok := value.(map[string]any)
		if !ok || m == nil {
			container[p.attr] = value // coerced later (manager as an id or a list)
			return nil
		}
		for k, v := range canon(subs, vm) {
			m[k] = v
		}
	default:
		container[p.attr] = value
	}
	return nil
}
