package scim

import (
	"strings"
)

// patchPath is a PATCH operation's target (RFC 7644 §3.5.2):
// attrPath [ "[" valFilter "]" ] [ "." subAttr ], resolved against a
// resource's schemas.
type patchPath struct {
	urn    string // "" for the core schema; a known or custom extension's URN
	attr   string // canonical top-level attribute; "" for a whole extension
	sub    string // canonical sub-attribute, or ""
	filter node   // the value filter, or nil
	def    *attr  // nil for custom extensions
}

func badPath(format string, args ...any) error { return invalid("invalidPath", format, args...) }

// maxPathLen bounds a PATCH path like a filter.
const maxPathLen = 4096

// parsePatchPath parses and resolves s for resource r. custom says whether
// the workspace keeps attributes of unknown extension schemas.
func parsePatchPath(r *resource, s string) (patchPath, error) {
	var p patchPath
	if len(s) > maxPathLen {
		return p, badPath("the path is longer than %d characters", maxPathLen)
	}
	s = strings.TrimSpace(s)
	head, rest := s, ""
	if i := strings.IndexByte(s, '['); i >= 0 {
		j := strings.LastIndexByte(s, ']')
		if j < i {
			return p, badPath("unbalanced [ in %q", s)
		}
		f, err := parseFilter(s[i+1 : j])
		if err != nil {
			return p, badPath("invalid value filter in %q: %s", s, errMessage(err))
		}
		p.filter, head, rest = f, s[:i], s[j+1:]
		if rest != "" {
			if rest[0] != '.' || !validName(rest[1:]) {
				return p, badPath("invalid sub-attribute after ] in %q", s)
			}
			rest = rest[1:]
		}
	}
	urn, local := r.splitURN(head)
	var defs []attr
	switch {
	case urn == "" || strings.EqualFold(urn, r.core):
		urn, defs = "", r.attrs
	case r.extension(urn) != "":
		urn = r.extension(urn)
		defs = r.exts[urn]
	default:
		if !strings.HasPrefix(strings.ToLower(urn), "urn:") {
			return p, badPath("invalid path %q", s)
		}
		defs = nil // a custom extension: any attribute name
	}
	p.urn = urn
	if local == "" {
		if urn == "" || p.filter != nil || rest != "" {
			return p, badPath("invalid path %q", s)
		}
		return p, nil
	}
	name, sub, dotted := strings.Cut(local, ".")
	if !validName(name) || (dotted && !validName(sub)) || (dotted && rest != "") {
		return p, badPath("invalid path %q", s)
	}
	if rest != "" {
		sub = rest
	}
	if defs == nil && urn != "" && r.extension(urn) == "" {
		p.attr, p.sub = name, sub
		return p, nil
	}
	if urn == "" && (strings.EqualFold(name, "id") || strings.EqualFold(name, "meta") || strings.EqualFold(name, "schemas")) {
		return p, invalid("mutability", "%s is read-only", name)
	}
	def := find(defs, name)
	if def == nil && urn == "" {
		// Entra names enterprise attributes without their URN ("manager").
		for u, ext := range r.exts {
			if def = find(ext, name); def != nil {
				p.urn = u
				break
			}
		}
	}
	if def == nil {
		return p, invalid("noTarget", "%s has no attribute %q", r.name, local)
	}
	p.attr, p.def = def.Name, def
	if sub != "" {
		sd := find(def.Subs, sub)
		if sd == nil {
			return p, invalid("noTarget", "%s has no sub-attribute %q", def.Name, sub)
		}
		p.sub = sd.Name
	}
	if p.filter != nil && !def.Multi {
		return p, badPath("%s is not multi-valued: it takes no [filter]", def.Name)
	}
	if def.Mutability == "readOnly" {
		return p, invalid("mutability", "%s is read-only", def.Name)
	}
	return p, nil
}

// errMessage is the caller-facing message of a latchkey error.
func errMessage(err error) string {
	msg := err.Error()
	if _, m, ok := strings.Cut(msg, ": "); ok {
		return m
	}
	return msg
}
