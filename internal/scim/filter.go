package scim

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
)

// The parser reads a filter (RFC 7644 §3.4.2.2) into a tree of nodes that
// still carry attribute paths as written; resolve.go checks them against a
// resource's filterable attributes (for SQL), match.go evaluates them on
// the elements of a multi-valued attribute (for PATCH paths).

type node interface{}

// path is an attribute path: [urn ":"] attr ["." sub].
type path struct{ urn, attr, sub string }

type cmpNode struct {
	path path
	op   string // lower case
	val  any    // string, bool, nil, or json.Number
}

type logicNode struct {
	or   bool
	l, r node
}

type notNode struct{ x node }

// vpNode is a value path: attr[filter].
type vpNode struct {
	path   path
	filter node
}

// Limits that keep a hostile filter from costing more than a real one.
const (
	maxFilterLen   = 4096
	maxFilterDepth = 32
)

func badFilter(format string, args ...any) error { return invalid("invalidFilter", format, args...) }

type token struct {
	kind byte // '(' ')' '[' ']' '"' (string) 'w' (word)
	text string
	pos  int
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.IndexByte("()[]", c) >= 0:
			toks = append(toks, token{kind: c, text: string(c), pos: i})
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, badFilter("unterminated string at %d", i)
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, badFilter("invalid string at %d", i)
			}
			toks = append(toks, token{kind: '"', text: v, pos: i})
			i = j + 1
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\n\r()[]\"", s[j]) < 0 {
				j++
			}
			toks = append(toks, token{kind: 'w', text: s[i:j], pos: i})
			i = j
		}
	}
	return toks, nil
}

type parser struct {
	toks  []token
	i     int
	depth int
	inVP  bool
}

// parseFilter parses a whole filter.
func parseFilter(s string) (node, error) {
	if len(s) > maxFilterLen {
		return nil, badFilter("the filter is longer than %d characters", maxFilterLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, badFilter("unexpected %q at %d", p.toks[p.i].text, p.toks[p.i].pos)
	}
	return n, nil
}

func (p *parser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t != nil && t.kind == 'w' && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kind byte) error {
	t := p.peek()
	if t == nil || t.kind != kind {
		if t == nil {
			return badFilter("expected %q at the end", string(kind))
		}
		return badFilter("expected %q at %d, found %q", string(kind), t.pos, t.text)
	}
	p.i++
	return nil
}

func (p *parser) or() (node, error) {
	if p.depth++; p.depth > maxFilterDepth {
		return nil, badFilter("the filter nests deeper than %d", maxFilterDepth)
	}
	defer func() { p.depth-- }()
	l, err := p.and()
	for err == nil && p.keyword("or") {
		var r node
		if r, err = p.and(); err == nil {
			l = logicNode{or: true, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	for err == nil && p.keyword("and") {
		var r node
		if r, err = p.unary(); err == nil {
			l = logicNode{l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) unary() (node, error) {
	if p.keyword("not") {
		if err := p.expect('('); err != nil {
			return nil, err
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		return notNode{x}, p.expect(')')
	}
	if t := p.peek(); t != nil && t.kind == '(' {
		p.i++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		return x, p.expect(')')
	}
	return p.attrExp()
}

func (p *parser) attrExp() (node, error) {
	t := p.peek()
	if t == nil || t.kind != 'w' {
		if t == nil {
			return nil, badFilter("expected an attribute at the end")
		}
		return nil, badFilter("expected an attribute at %d, found %q", t.pos, t.text)
	}
	p.i++
	ap, err := parsePath(t.text)
	if err != nil {
		return nil, err
	}
	if n := p.peek(); n != nil && n.kind == '[' {
		if p.inVP {
			return nil, badFilter("value paths cannot nest")
		}
		p.i++
		p.inVP = true
		inner, err := p.or()
		p.inVP = false
		if err != nil {
			return nil, err
		}
		if err := p.expect(']'); err != nil {
			return nil, err
		}
		vp := vpNode{path: ap, filter: inner}
		// Entra writes emails[type eq "work"].value eq "x": a value path
		// followed by a sub-attribute and a comparison.
		if n := p.peek(); n != nil && n.kind == 'w' && strings.HasPrefix(n.text, ".") {
			p.i++
			sub := n.text[1:]
			if !validName(sub) {
				return nil, badFilter("invalid sub-attribute %q", sub)
			}
			c, err := p.comparison(path{attr: sub})
			if err != nil {
				return nil, err
			}
			vp.filter = logicNode{l: inner, r: c}
		}
		return vp, nil
	}
	return p.comparison(ap)
}

func (p *parser) comparison(ap path) (node, error) {
	t := p.peek()
	if t == nil || t.kind != 'w' {
		return nil, badFilter("expected an operator after %s", ap.attr)
	}
	p.i++
	op := strings.ToLower(t.text)
	switch op {
	case "pr":
		return cmpNode{path: ap, op: op}, nil
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
	default:
		return nil, badFilter("unknown operator %q at %d", t.text, t.pos)
	}
	v := p.peek()
	if v == nil || (v.kind != 'w' && v.kind != '"') {
		return nil, badFilter("expected a value after %s", op)
	}
	p.i++
	if v.kind == '"' {
		return cmpNode{path: ap, op: op, val: v.text}, nil
	}
	switch strings.ToLower(v.text) {
	case "true":
		return cmpNode{path: ap, op: op, val: true}, nil
	case "false":
		return cmpNode{path: ap, op: op, val: false}, nil
	case "null":
		return cmpNode{path: ap, op: op, val: nil}, nil
	}
	if _, err := strconv.ParseFloat(v.text, 64); err == nil {
		return cmpNode{path: ap, op: op, val: json.Number(v.text)}, nil
	}
	// Entra may send a value unquoted (externalId eq 1234-abcd).
	return cmpNode{path: ap, op: op, val: v.text}, nil
}

// parsePath splits an attribute path; the URN, if any, is checked later
// against the resource's schemas.
func parsePath(s string) (path, error) {
	var p path
	rest := s
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		// Known schemas are matched by resolve; here the URN ends at the
		// last colon.
		i := strings.LastIndex(s, ":")
		p.urn, rest = s[:i], s[i+1:]
	}
	attr, sub, dotted := strings.Cut(rest, ".")
	if !validName(attr) || (dotted && !validName(sub)) {
		return p, badFilter("invalid attribute path %q", s)
	}
	p.attr, p.sub = attr, sub
	return p, nil
}

// validName reports whether s is an ATTRNAME (or $ref).
func validName(s string) bool {
	if s == "$ref" {
		return true
	}
	if s == "" || len(s) > 100 || !unicode.IsLetter(rune(s[0])) || s[0] > unicode.MaxASCII {
		return false
	}
	for _, c := range s {
		if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
