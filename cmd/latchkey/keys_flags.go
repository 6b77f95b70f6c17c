package main

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// flagNames maps the API's request fields to one command's flags, so that
// a refused request names what the user typed (--grace-period), not the
// JSON field the flag became (grace_period). A key ending in "." maps a
// family of fields: "settings." turns settings.colour into --setting colour.
// A key with "[*]" maps every element of a list, its flag text taking the
// element's position (from 1) for its %d: ratelimits[1].limit is "the
// limit of --ratelimit #2".
type flagNames map[string]string

// listIndex is the index of a list element in a field path.
var listIndex = regexp.MustCompile(`\[(\d+)\]`)

// element looks field up among the list keys: ratelimits[1].limit as
// ratelimits[*].limit, with the position 2.
func (f flagNames) element(field string) (string, bool) {
	m := listIndex.FindStringSubmatchIndex(field)
	if m == nil {
		return "", false
	}
	fl, ok := f[field[:m[0]]+"[*]"+field[m[1]:]]
	if !ok {
		return "", false
	}
	i, _ := strconv.Atoi(field[m[2]:m[3]])
	return fmt.Sprintf(fl, i+1), true
}

// Flags of the keys commands by API field.
var (
	createFlags = flagNames{
		"name": "--name", "description": "--description", "type": "--type", "environment": "--environment",
		"owner": "--owner", "scopes": "--scope", "settings.": "--setting", "expires_in": "--expires-in",
		"expires_at": "--expires-at", "callback_url": "--callback-url",
		"credits": "--credits", "credits.remaining": "--credits", "credits.refill": "--refill",
		"credits.refill.interval": "the interval of --refill", "credits.refill.amount": "the amount of --refill",
		"ratelimits": "--ratelimit", "ratelimits[*]": "--ratelimit #%d", "ratelimits[*].name": "the name of --ratelimit #%d",
		"ratelimits[*].limit": "the limit of --ratelimit #%d", "ratelimits[*].duration": "the duration of --ratelimit #%d",
	}
	updateFlags = flagNames{
		"name": "--name", "description": "--description", "callback_url": "--callback-url", "scopes": "--scope",
		"settings.": "--setting", "rate_limit": "--rate-limit", "rate_limit.limit": "the count of --rate-limit",
		"rate_limit.period": "the period of --rate-limit", "allowed_ips": "--allowed-ip",
		"external_id": "--external-id", "meta": "--meta",
		"credits": "--credits", "credits.remaining": "--credits", "credits.refill": "--refill",
		"credits.refill.interval": "the interval of --refill", "credits.refill.amount": "the amount of --refill",
		"ratelimits": "--ratelimit", "ratelimits[*]": "--ratelimit #%d", "ratelimits[*].name": "the name of --ratelimit #%d",
		"ratelimits[*].limit": "the limit of --ratelimit #%d", "ratelimits[*].duration": "the duration of --ratelimit #%d",
	}
	resetFlags = flagNames{"grace_period": "--grace-period"}
	listFlags  = flagNames{
		"status": "--status", "type": "--type", "environment": "--environment", "owner": "--owner",
		"limit": "--limit", "cursor": "--cursor",
	}
	verifyFlags = flagNames{"scopes": "--scope", "type": "--type", "environment": "--environment"}
	usageFlags  = flagNames{"from": "--from", "to": "--to"}
)

// flag returns the flag of an API field, or "".
func (f flagNames) flag(field string) string {
	if fl, ok := f[field]; ok {
		return fl
	}
	if fl, ok := f.element(field); ok {
		return fl
	}
	if family, rest, ok := strings.Cut(field, "."); ok && rest != "" {
		if fl, ok := f[family+"."]; ok {
			return fl + " " + rest
		}
	}
	return ""
}

// rewrite names flags in msg, the message of an error about field: the
// API fields it mentions become their flags, and a message that mentions
// none is prefixed with the flag of field.
func (f flagNames) rewrite(msg, field string) string {
	if len(f) == 0 {
		return msg
	}
	// Longest first, so rate_limit.limit is not taken for rate_limit.
	names := slices.SortedFunc(maps.Keys(f), func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	named := false
	for _, name := range names {
		switch {
		case strings.HasSuffix(name, "."):
		case strings.Contains(name, "[*]"):
			pat := regexp.MustCompile(`\b` + strings.Replace(regexp.QuoteMeta(name), `\[\*\]`, `\[\d+\]`, 1))
			msg = pat.ReplaceAllStringFunc(msg, func(field string) string {
				named = true
				fl, _ := f.element(field)
				return fl
			})
		case strings.ContainsAny(name, "_."):
			// Clearly a field, wherever it stands.
			var ok bool
			if msg, ok = replaceWord(msg, name, f[name]); ok {
				named = true
			}
		case strings.HasPrefix(msg, name+" "):
			// A plain word (name, type, meta) is a field only as the
			// subject: "name must be…", not "unknown key type".
			msg, named = f[name]+msg[len(name):], true
		}
	}
	if fl := f.flag(field); fl != "" && !named {
		msg = fl + ": " + msg
	}
	return msg
}

// replaceWord replaces the occurrences of word in s that stand alone: not
// inside a longer identifier (grace_period in old_grace_period, or
// rate_limit in rate_limit.limit).
func replaceWord(s, word, with string) (string, bool) {
	var b strings.Builder
	found, from := false, 0
	for {
		j := strings.Index(s[from:], word)
		if j < 0 {
			b.WriteString(s[from:])
			return b.String(), found
		}
		i, end := from+j, from+j+len(word)
		b.WriteString(s[from:i])
		if alone(s, i, end) {
			b.WriteString(with)
			found = true
		} else {
			b.WriteString(word)
		}
		from = end
	}
}

// alone reports whether s[i:end] is a whole field name: no name character
// or dot just before it, and none just after it but a full stop.
func alone(s string, i, end int) bool {
	if i > 0 && (nameByte(s[i-1]) || s[i-1] == '.') {
		return false
	}
	if end < len(s) && nameByte(s[end]) {
		return false
	}
	if end+1 < len(s) && s[end] == '.' && nameByte(s[end+1]) {
		return false
	}
	return true
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
