package scim

import (
	"strings"
)

// project applies the attributes and excludedAttributes parameters
// (RFC 7644 §3.4.2.5) to a resource. id and schemas are always returned.
func (q *request) project(res map[string]any) map[string]any {
	v := q.r.URL.Query()
	if list := v.Get("attributes"); strings.TrimSpace(list) != "" {
		out := map[string]any{"id": res["id"], "schemas": res["schemas"]}
		for _, a := range splitList(list) {
			copyPath(out, res, a)
		}
		return out
	}
	for _, a := range splitList(v.Get("excludedAttributes")) {
		deletePath(res, a)
	}
	return res
}

func splitList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" && len(out) < 100 {
			out = append(out, a)
		}
	}
	return out
}

// locate splits an attribute reference into the keys leading to it: an
// extension URN (if any), the attribute, the sub-attribute (if any).
func locate(res map[string]any, ref string) []string {
	var keys []string
	rest := ref
	if strings.HasPrefix(strings.ToLower(ref), "urn:") {
		for k := range res {
			lk := strings.ToLower(k)
			lr := strings.ToLower(ref)
			if strings.HasPrefix(lk, "urn:") && (lr == lk || strings.HasPrefix(lr, lk+":")) {
				keys = append(keys, k)
				rest = strings.TrimPrefix(ref[len(k):], ":")
				break
			}
		}
		if keys == nil { // the core schema, or a schema the resource lacks
			i := strings.LastIndex(ref, ":")
			rest = ref[i+1:]
		}
	}
	if rest == "" {
		return keys
	}
	attr, sub, ok := strings.Cut(rest, ".")
	keys = append(keys, attr)
	if ok {
		keys = append(keys, sub)
	}
	return keys
}

// lookup finds key in m without regard to case.
func lookup(m map[string]any, key string) (string, any, bool) {
	if v, ok := m[key]; ok {
		return key, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return k, v, true
		}
	}
	return "", nil, false
}

func copyPath(dst, src map[string]any, ref string) {
	keys := locate(src, ref)
	for len(keys) > 0 {
		k, v, ok := lookup(src, keys[0])
		if !ok {
			return
		}
		if len(keys) == 1 {
			dst[k] = v
			return
		}
		switch sv := v.(type) {
		case map[string]any:
			d, _ := dst[k].(map[string]any)
			if d == nil {
				d = map[string]any{}
				dst[k] = d
			}
			dst, src, keys = d, sv, keys[1:]
		case []any: // emails.value: that sub-attribute of every element
			var arr []any
			for _, e := range sv {
				if m, ok := e.(map[string]any); ok {
					if sk, x, ok := lookup(m, keys[1]); ok {
						arr = append(arr, map[string]any{sk: x})
					}
				}
			}
			if arr != nil {
				dst[k] = arr
			}
			return
		default:
			return
		}
	}
}

func deletePath(res map[string]any, ref string) {
	keys := locate(res, ref)
	m := res
	for i, key := range keys {
		k, v, ok := lookup(m, key)
		if !ok || (i == 0 && (k == "id" || k == "schemas")) {
			return
		}
		if i == len(keys)-1 {
			delete(m, k)
			return
		}
		switch sv := v.(type) {
		case map[string]any:
			m = sv
		case []any:
			for _, e := range sv {
				if em, ok := e.(map[string]any); ok && i+1 < len(keys) {
					if sk, _, ok := lookup(em, keys[i+1]); ok {
						delete(em, sk)
					}
				}
			}
			return
		default:
			return
		}
	}
}
