package sqlstore

import "bytes"

// emptyJSON reports whether b is an empty JSON array or object as the
// stores write and return them ("[]", "{}"; JSONB may add a space inside).
func emptyJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || (b[0] != '[' && b[0] != '{') || b[len(b)-1] != b[0]+2 {
		return false
	}
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// unmarshalStrings decodes a JSON array of strings into *v. Strings of
// printable ASCII without escapes (scopes, CIDR prefixes) are cut out
// directly; anything else goes through encoding/json, which gives the
// same result.
func unmarshalStrings(b []byte, v *[]string) error {
	if out, ok := plainStrings(b); ok {
		*v = out
		return nil
	}
	return unmarshal(b, v)
}

// plainStrings parses `["a", "b"]` where no string holds a backslash or a
// byte outside printable ASCII; ok is false for anything else.
func plainStrings(b []byte) (out []string, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, false
	}
	body := bytes.TrimSpace(b[1 : len(b)-1])
	out = []string{}
	if len(body) == 0 {
		return out, true
	}
	// One string holds every element, so the list costs two allocations.
	n := bytes.Count(body, []byte{','}) + 1
	out = make([]string, 0, n)
	all := string(body)
	for i := 0; ; {
		for i < len(all) && (all[i] == ' ' || all[i] == '\n' || all[i] == '\t' || all[i] == '\r') {
			i++
		}
		if i >= len(all) || all[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < len(all) && all[j] != '"' {
			if c := all[j]; c == '\\' || c < 0x20 || c >= 0x7f {
				return nil, false
			}
			j++
		}
		if j >= len(all) {
			return nil, false
		}
		out = append(out, all[i+1:j])
		i = j + 1
		for i < len(all) && (all[i] == ' ' || all[i] == '\n' || all[i] == '\t' || all[i] == '\r') {
			i++
		}
		if i == len(all) {
			return out, true
		}
		if all[i] != ',' {
			return nil, false
		}
		i++
	}
}
