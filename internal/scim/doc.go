package scim

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// A resource travels through this package as a doc: a JSON object with
// canonical attribute names, extensions under their schema URN, without
// id, meta and schemas. normalize turns what an identity provider sent
// into one; PATCH edits one; the user and group files convert docs to and
// from the domain's records.

// normalize canonicalises raw for resource r: attribute names in their
// schema's case, values of their declared type (Entra's "True" becomes
// true), nulls and empty values dropped, read-only and write-only
// attributes dropped. Attributes no schema knows are ignored; those under
// unknown extension schemas are kept only when custom is true.
func normalize(r *resource, raw map[string]any, custom bool) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range raw {
		switch strings.ToLower(k) {
		case "schemas", "id", "meta", "password":
			continue
		}
		if strings.EqualFold(k, r.core) {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, invalid("invalidSyntax", "%s must be an object", k)
			}
			inner, err := normalize(r, m, custom)
			if err != nil {
				return nil, err
			}
			maps.Copy(out, inner)
			continue
		}
		if urn := r.extension(k); urn != "" {
			m, err := normalizeObject(urn, r.exts[urn], v)
			if err != nil {
				return nil, err
			}
			if len(m) > 0 {
				out[urn] = m
			}
			continue
		}
		if latchkey.ScimIsCustom(k) {
			if m, ok := dropNulls(v).(map[string]any); ok && custom && len(m) > 0 {
				out[k] = m
			}
			continue
		}
		def := find(r.attrs, k)
		if def == nil || def.Mutability == "readOnly" || def.Mutability == "writeOnly" {
			continue
		}
		val, err := coerce(def, v)
		if err != nil {
			return nil, err
		}
		if val != nil {
			out[def.Name] = val
		}
	}
	return out, nil
}

func normalizeObject(name string, defs []attr, v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("invalidValue", "%s must be an object", name)
	}
	out := map[string]any{}
	for k, x := range m {
		def := find(defs, k)
		if def == nil {
			continue
		}
		val, err := coerce(def, x)
		if err != nil {
			return nil, err
		}
		if val != nil {
			out[def.Name] = val
		}
	}
	return out, nil
}

// coerce converts v to def's type; nil means absent.
func coerce(def *attr, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if def.Multi {
		arr, ok := v.([]any)
		if !ok {
			arr = []any{v} // a single value where a list belongs
		}
		var out []any
		for _, e := range arr {
			single := *def
			single.Multi = false
			x, err := coerce(&single, e)
			if err != nil {
				return nil, err
			}
			if x != nil {
				out = append(out, x)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	if def.Type == "complex" {
		switch x := v.(type) {
		case []any: // Entra sends manager as [{"value": …}]
			if len(x) == 0 {
				return nil, nil
			}
			if len(x) > 1 {
				return nil, invalid("invalidValue", "%s takes one value, not a list", def.Name)
			}
			return coerce(def, x[0])
		case string: // or as the manager's id alone
			if find(def.Subs, "value") != nil {
				if x == "" {
					return nil, nil
				}
				return map[string]any{"value": x}, nil
			}
		}
		m, err := normalizeObject(def.Name, def.Subs, v)
		if err != nil || len(m) == 0 {
			return nil, err
		}
		return m, nil
	}
	switch def.Type {
	case "boolean":
		if b, ok := asBool(v); ok {
			return b, nil
		}
		return nil, invalid("invalidValue", "%s must be true or false", def.Name)
	case "dateTime":
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
			return nil, invalid("invalidValue", "%s must be an RFC 3339 time", def.Name)
		}
		return s, nil
	}
	switch x := v.(type) {
	case string:
		if len(x) > 10000 {
			return nil, invalid("invalidValue", "%s is longer than 10000 characters", def.Name)
		}
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case json.Number:
		return string(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return nil, invalid("invalidValue", "%s must be a string", def.Name)
}

// dropNulls removes nulls from custom extension values, so that answers
// hold none.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e = dropNulls(e); e != nil {
				out[k] = e
			}
		}
		return out
	case []any:
		out := []any{}
		for _, e := range x {
			if e = dropNulls(e); e != nil {
				out = append(out, e)
			}
		}
		return out
	}
	return v
}

// clone deep-copies a doc so that PATCH never edits a record in place.
func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// customOf returns the custom extension parts of a doc.
func customOf(doc map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		if latchkey.ScimIsCustom(k) {
			out[k] = v
		}
	}
	return out
}
