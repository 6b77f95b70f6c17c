package scim

import "strings"

// Helpers of PATCH for multi-valued attributes: value filters, element
// lists, and the canonical names of sub-attributes.

// applyFiltered applies an operation whose path has a value filter.
func applyFiltered(container map[string]any, name string, p patchPath, subs []attr, value any) error {
	arr := elements(container[p.attr])
	var hit []map[string]any
	var keep []any
	for _, e := range arr {
		m := e.(map[string]any)
		ok, err := match(p.filter, m)
		if err != nil {
			return err
		}
		if ok {
			hit = append(hit, m)
			if name == "remove" && p.sub == "" {
				continue
			}
		}
		keep = append(keep, e)
	}
	if name == "remove" {
		for _, m := range hit {
			delete(m, p.sub)
		}
		setOrDelete(container, p.attr, keep)
		return nil // removing what is not there leaves it not there
	}
	if len(hit) == 0 {
		eqs, ok := equalities(p.filter)
		if !ok {
			return invalid("noTarget", "no %s matches the filter", p.attr)
		}
		m := canon(subs, eqs)
		keep = append(keep, m)
		hit = append(hit, m)
	}
	for _, m := range hit {
		if p.sub != "" {
			m[p.sub] = value
			continue
		}
		vm, ok := value.(map[string]any)
		if !ok {
			return invalid("invalidValue", "%s[…] takes an object value", p.attr)
		}
		for k, v := range canon(subs, vm) {
			m[k] = v
		}
	}
	container[p.attr] = keep
	return nil
}

// elements returns v as a list of objects: a list, or one object.
func elements(v any) []any {
	var arr []any
	switch x := v.(type) {
	case []any:
		arr = x
	case map[string]any:
		arr = []any{x}
	case nil:
		return nil
	default:
		arr = []any{map[string]any{"value": x}}
	}
	out := make([]any, 0, len(arr))
	for _, e := range arr {
		switch m := e.(type) {
		case map[string]any:
			out = append(out, m)
		case nil:
		default:
			out = append(out, map[string]any{"value": m})
		}
	}
	return out
}

// canon renames an object's keys to the sub-attributes' canonical names.
func canon(subs []attr, v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return map[string]any{"value": v}
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if d := find(subs, k); d != nil {
			k = d.Name
		}
		out[k] = x
	}
	return out
}

// appendNew appends e unless an element with the same value and type is there.
func appendNew(arr []any, e map[string]any) []any {
	for _, x := range arr {
		m := x.(map[string]any)
		if strings.EqualFold(text(m["value"]), text(e["value"])) && strings.EqualFold(text(m["type"]), text(e["type"])) && e["value"] != nil {
			for k, v := range e {
				m[k] = v
			}
			return arr
		}
	}
	return append(arr, e)
}

func setOrDelete(m map[string]any, k string, arr []any) {
	if len(arr) == 0 {
		delete(m, k)
		return
	}
	m[k] = arr
}
