package latchkey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateName checks a one-line name shown to other people (a key's, a
// workspace's, a person's): not empty, at most maxRunes characters, valid
// UTF-8, and free of control and bidirectional-formatting characters that
// could forge what a console or a mail shows.
func ValidateName(field, s string, maxRunes int) error {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	if n == 0 || n > maxRunes {
		return Errorf(EINVALID, "%s must be 1 to %d characters", field, maxRunes).WithDetail("field", field)
	}
	return validateRunes(field, s, false)
}

// ValidateText checks multi-line text such as a description: like
// ValidateName, but line breaks and tabs are allowed and it may be empty.
func ValidateText(field, s string, maxRunes int) error {
	if utf8.RuneCountInString(s) > maxRunes {
		return Errorf(EINVALID, "%s must be at most %d characters", field, maxRunes).WithDetail("field", field)
	}
	return validateRunes(field, s, true)
}

func validateRunes(field, s string, multiline bool) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8", field).WithDetail("field", field)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return Errorf(EINVALID, "%s must not contain control or text-direction characters", field).WithDetail("field", field)
		}
	}
	return nil
}
