package latchkey

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Each workspace's events form a hash chain, and so do the platform's
// (WorkspaceID ""): event n stores Seq n, the hash of event n-1 (zero for
// the first) and its own hash, SHA-256(previous hash || canonical
// encoding). Altering, removing or inserting a stored event breaks every
// later link, so anyone holding a recent head (GET .../events/head) can
// tell the log was changed; what the chain cannot show is a store rewritten
// wholesale after the last head someone kept.

// ChainHead is the last link of one chain; Seq 0 is an empty chain, whose
// Hash is zero.
type ChainHead struct {
	WorkspaceID string `json:"workspace_id"`
	Seq         int64  `json:"seq"`
	Hash        string `json:"hash"` // hex
}

// ChainHash returns the hash of ev following prev.
func ChainHash(prev [32]byte, ev *Event) ([32]byte, error) {
	enc, err := canonicalEvent(ev)
	if err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	h.Write(prev[:])
	h.Write(enc)
	return [32]byte(h.Sum(nil)), nil
}

// canonicalEvent encodes ev so that the encoding survives the store: times
// at the store's microsecond precision, and Data in a canonical JSON form
// whatever key order, spacing or number spelling the database gave back.
func canonicalEvent(ev *Event) ([]byte, error) {
	var b bytes.Buffer
	field := func(s string) {
		binary.Write(&b, binary.BigEndian, uint32(len(s)))
		b.WriteString(s)
	}
	field(ev.ID)
	field(ev.WorkspaceID)
	binary.Write(&b, binary.BigEndian, ev.At.Truncate(time.Microsecond).UnixMicro())
	field(ev.Actor.Type)
	field(ev.Actor.ID)
	field(ev.Actor.Label)
	field(ev.Action)
	field(ev.Target)
	field(ev.IP)
	data := ""
	if len(ev.Data) > 0 {
		raw, err := json.Marshal(ev.Data)
		if err != nil {
			return nil, err
		}
		if data, err = CanonicalJSON(raw); err != nil {
			return nil, err
		}
	}
	field(data)
	return b.Bytes(), nil
}

// CanonicalJSON rewrites a JSON document with object keys sorted, no
// spaces, and numbers as exact fractions, so that two spellings of one
// value (PostgreSQL's jsonb reorders keys and respells numbers) encode
// alike.
func CanonicalJSON(raw []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("canonical JSON: %w", err)
	}
	var b strings.Builder
	if err := writeCanonical(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeCanonical(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(fmt.Sprint(v))
	case json.Number:
		r, ok := new(big.Rat).SetString(string(v))
		if !ok {
			return fmt.Errorf("canonical JSON: bad number %q", v)
		}
		b.WriteString(r.RatString())
	case string:
		s, _ := json.Marshal(v)
		b.Write(s)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			s, _ := json.Marshal(k)
			b.Write(s)
			b.WriteByte(':')
			if err := writeCanonical(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("canonical JSON: unexpected %T", v)
	}
	return nil
}

// ChainBreak says where a chain stops holding.
type ChainBreak struct {
	WorkspaceID string
	EventID     string // the first event that does not follow, "" at the end
	Seq         int64
	Reason      string
}

func (b *ChainBreak) Error() string {
	return fmt.Sprintf("workspace %q: event %s (seq %d): %s", b.WorkspaceID, b.EventID, b.Seq, b.Reason)
}

// ChainVerifier checks one chain, fed its events in Seq order.
type ChainVerifier struct {
	WorkspaceID string
	prev        [32]byte
	seq         int64
}

// Next checks ev, the next event of the chain by Seq; it returns a
// *ChainBreak naming the first event that was altered (its hash does not
// match), or follows a removed or inserted one (its Seq or its PrevHash
// does not follow).
func (v *ChainVerifier) Next(ev *Event) error {
	fail := func(reason string) error {
		return &ChainBreak{WorkspaceID: v.WorkspaceID, EventID: ev.ID, Seq: ev.Seq, Reason: reason}
	}
	if ev.Seq == 0 {
		return fail("not chained")
	}
	if ev.Seq != v.seq+1 {
		return fail(fmt.Sprintf("follows seq %d: an event was removed or inserted", v.seq))
	}
	if ev.PrevHash != hex.EncodeToString(v.prev[:]) {
		return fail("its previous hash is not the previous event's: an event was removed, inserted or altered")
	}
	want, err := ChainHash(v.prev, ev)
	if err != nil {
		return fail(err.Error())
	}
	if ev.Hash != hex.EncodeToString(want[:]) {
		return fail("its content does not match its hash: the event was altered")
	}
	v.prev, v.seq = want, ev.Seq
	return nil
}

// End checks that the chain ends at head, so that events removed from its
// end are noticed too.
func (v *ChainVerifier) End(head ChainHead) error {
	if head.Seq != v.seq || head.Hash != hex.EncodeToString(v.prev[:]) {
		return &ChainBreak{WorkspaceID: v.WorkspaceID, Seq: head.Seq,
			Reason: fmt.Sprintf("the chain ends at seq %d but its head says %d: events were removed from its end", v.seq, head.Seq)}
	}
	return nil
}
