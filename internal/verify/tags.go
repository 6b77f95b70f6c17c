package verify

import (
	"maps"
	"strings"

	"github.com/latchkey/latchkey"
)

// tagBook counts one key's verifications per tag for one day, between two
// flushes. It keeps at most latchkey.MaxUsageTags names and adds the
// counts of any further tag to latchkey.UsageTagOther, as the store does
// (so the bucket sums tags, not verifications), and a caller
// sending a new tag on every request grows neither memory nor the batch.
type tagBook map[string]latchkey.TagCount

// add counts one verification carrying tags (each distinct tag once),
// and returns the book, made on first use. A tag already held costs a
// map update and no allocation.
func (t tagBook) add(tags []string, valid bool) tagBook {
	if t == nil {
		t = make(tagBook, len(tags))
	}
	var v int64
	if valid {
		v = 1
	}
	for i, tag := range tags {
		if seenBefore(tags[:i], tag) {
			continue
		}
		c, held := t[tag]
		if !held {
			if t.full() {
				tag = latchkey.UsageTagOther
				c = t[tag]
			} else {
				// The request's buffer must not be kept alive by
				// the book.
				tag = strings.Clone(tag)
			}
		}
		c.Verifications++
		c.Valid += v
		t[tag] = c
	}
	return t
}

// full reports whether t holds as many names as the store keeps.
func (t tagBook) full() bool {
	n := len(t)
	if _, ok := t[latchkey.UsageTagOther]; ok {
		n--
	}
	return n >= latchkey.MaxUsageTags
}

func seenBefore(earlier []string, tag string) bool {
	for _, s := range earlier {
		if s == tag {
			return true
		}
	}
	return false
}

// merge adds old's counts to t, keeping the cap: counts put back after a
// failed flush.
func (t tagBook) merge(old tagBook) tagBook {
	if len(old) == 0 {
		return t
	}
	if t == nil {
		return old
	}
	for tag, o := range old {
		if _, held := t[tag]; !held && t.full() {
			tag = latchkey.UsageTagOther
		}
		c := t[tag]
		c.Verifications += o.Verifications
		c.Valid += o.Valid
		t[tag] = c
	}
	return t
}

// export hands a copy of the counts to a store batch (a store call cut
// short by its deadline may still read it while a retry merges into the
// book); nil when there are none.
func (t tagBook) export() map[string]latchkey.TagCount {
	if len(t) == 0 {
		return nil
	}
	return maps.Clone(t)
}
