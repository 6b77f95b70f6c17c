package verify

import (
	"context"
	"time"
)

// When the channel's word is late.
//
// An entry past MaxAge answers without a store read only while the word
// (Heard) is at most MaxAge old. When the word runs late, every such
// entry turns stale at the same moment, and every request would read its
// key from the store at once: on a saturated host, where the word is late
// because everything is, those reads are what tip the store over. So the
// reads of entries stale only for want of word go through a few slots;
// a request that finds them taken waits for the word (which, when it
// comes, answers every waiter from the cache) or for a slot. Once the
// word is twice MaxAge late the channel is presumed broken: a request no
// longer waits and reads the store, as it did before there was a word.
// Nothing answers on older word than before: the bound on a missed
// invalidation is unchanged.

// lateReads is how many reads of entries stale only for want of word run
// at once.
const lateReads = 4

// awaitWord is called for an entry that is late (freshness).
// It returns came when fresher word arrived, so the cache is to be asked
// again; otherwise the store is to be read, and release ends that read
// (it frees a slot when one was taken). It waits until *until (UnixNano)
// at most, which the first call of a lookup sets to twice MaxAge after
// the word it found: word that keeps coming late must not keep a request
// waiting.
func (v *Verifier) awaitWord(ctx context.Context, until *int64) (release func(), came bool) {
	select {
	case v.lateSlots <- struct{}{}:
		return v.freeLateSlot, false
	default:
	}
	heard := v.heard.Load()
	word := v.word.Load()
	if v.heard.Load() != heard {
		return noRelease, true // word came between the two loads
	}
	if *until == 0 {
		*until = heard + 2*v.maxAge
	}
	wait := time.Duration(*until - v.now().UnixNano())
	if wait <= 0 {
		return noRelease, false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-*word:
		return noRelease, true
	case v.lateSlots <- struct{}{}:
		return v.freeLateSlot, false
	case <-t.C:
	case <-ctx.Done():
	}
	return noRelease, false
}

func (v *Verifier) freeLateSlot() { <-v.lateSlots }

func noRelease() {}

// announceWord wakes the lookups waiting for word.
func (v *Verifier) announceWord() {
	next := make(chan struct{})
	if prev := v.word.Swap(&next); prev != nil {
		close(*prev)
	}
}
