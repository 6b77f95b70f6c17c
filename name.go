package latchkey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateName checks a one-line name people will read (a key's title, a
// workspace's or a member's name): not empty after trimming spaces, valid
// UTF-8, at most maxRunes characters, and free of every character that can
// make it look like something it is not: control characters (NUL, CR, LF,
// escape sequences), bidirectional overrides and isolates (U+202E turns
// "txt.exe" into "exe.txt"), invisible format characters (zero-width space,
// soft hyphen, tag characters) and line or paragraph separators. It trims
// nothing: the caller stores what it was given or nothing at all.
//
// The error is EINVALID with the field named in its details.
func ValidateName(field, s string, maxRunes int) error {
	if strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > maxRunes {
		return Errorf(EINVALID, "%s must be 1 to %d characters", field, maxRunes).WithDetail("field", field)
	}
	return validateRunes(field, s, maxRunes, false)
}

// ValidateText checks multi-line free text such as a description: like
// ValidateName but it may be empty and may hold line feeds and tabs
// (carriage returns are refused: surfaces turn CRLF into LF first).
func ValidateText(field, s string, maxRunes int) error {
	return validateRunes(field, s, maxRunes, true)
}

func validateRunes(field, s string, maxRunes int, multiline bool) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8", field).WithDetail("field", field)
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return Errorf(EINVALID, "%s must be at most %d characters", field, maxRunes).WithDetail("field", field)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if spoofing(r) {
			return Errorf(EINVALID, "%s contains a control or invisible formatting character (%U)", field, r).WithDetail("field", field)
		}
	}
	return nil
}

// spoofing reports whether r is a character refused in names: every
// control (Cc) and format (Cf) character — which includes the bidi
// embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the
// marks U+200E, U+200F and U+061C, zero-width spaces, soft hyphens and tag
// characters — and the line and paragraph separators. The zero-width
// (non-)joiners U+200C and U+200D are kept: Persian, Indic scripts and
// emoji sequences need them to be written at all.
func spoofing(r rune) bool {
	switch {
	case r == '\u200c' || r == '\u200d':
		return false
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r == '\ufffe' || r == '\uffff':
		return true
	}
	return false
}
