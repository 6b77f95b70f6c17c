package manage_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/password"
)

const ownerEmail, ownerPassword = "owner@acme.test", "a long enough password"

type loginResult struct {
	ok   bool
	code latchkey.Code
	msg  string
	took time.Duration
}

func (e *env) login(email, pw, ip string) loginResult {
	start := time.Now()
	_, _, err := e.svc.Login(context.Background(), email, pw, ip)
	return loginResult{ok: err == nil, code: latchkey.ErrorCode(err), msg: latchkey.ErrorMessage(err), took: time.Since(start)}
}

// burst runs n logins at once, released together.
func (e *env) burst(n int, attempt func(i int) (email, pw, ip string)) []loginResult {
	out := make([]loginResult, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			email, pw, ip := attempt(i)
			start.Wait()
			out[i] = e.login(email, pw, ip)
		}()
	}
	start.Done()
	done.Wait()
	return out
}

// TestAttackParallelGuessesBypassLockout: 64 simultaneous guesses at one
// email from one address, the right password among them. The lockout used
// to count failures only after hashing, so all 64 were checked and the
// right one logged in. Now attempts in flight count: no more guesses are
// evaluated than sequential ones would be, the address is locked after,
// and the owner still logs in from their own address.
func TestAttackParallelGuessesBypassLockout(t *testing.T) {
	e := newEnv(t)
	const attacker = "203.0.113.9"
	// 63 wrong guesses at once, and the right one while they are in flight.
	var right loginResult
	rightDone := make(chan struct{})
	go func() {
		defer close(rightDone)
		// Late enough that the burst has reserved its attempts even on a
		// loaded machine; they stay in flight for seconds behind the hash bound.
		time.Sleep(400 * time.Millisecond)
		right = e.login(ownerEmail, ownerPassword, attacker)
	}()
	res := e.burst(63, func(i int) (string, string, string) {
		return ownerEmail, "wrong guess " + strconv.Itoa(i), attacker
	})
	<-rightDone
	evaluated := 0
	for _, r := range res {
		switch r.code {
		case latchkey.ERATELIMITED:
		case latchkey.EUNAUTHORIZED:
			evaluated++
		default:
			t.Errorf("unexpected answer %q: %s", r.code, r.msg)
		}
	}
	if evaluated > 10 {
		t.Errorf("%d of 63 parallel guesses were checked, want at most 10 (the lockout)", evaluated)
	}
	if right.ok || right.code != latchkey.ERATELIMITED {
		t.Errorf("the right password while 63 guesses were in flight: got ok=%v %q, want rate_limited", right.ok, right.code)
	}
	// Guesses the hash bound turned away were not checked and do not
	// count; the attacker may go on until the lockout, never beyond.
	for range 12 {
		if r := e.login(ownerEmail, "one more guess", attacker); r.code == latchkey.ERATELIMITED {
			break
		}
		evaluated++
	}
	if evaluated > 10 {
		t.Errorf("%d guesses were checked in all, want at most 10", evaluated)
	}
	if r := e.login(ownerEmail, ownerPassword, attacker); r.code != latchkey.ERATELIMITED {
		t.Errorf("right password from the attacker's address after the lockout: got ok=%v %q, want rate_limited", r.ok, r.code)
	}
	// The victim loses nothing: from their own address they log in.
	if r := e.login(ownerEmail, ownerPassword, "198.51.100.7"); !r.ok {
		t.Errorf("the owner from their own address: got %q %s, want a session", r.code, r.msg)
	}
}

// TestAttackLockOutVictimByFailingLogins: a stranger fails logins in the
// owner's name from many addresses, for as long as they like. It used to
// lock the email for everyone, renewable forever. Now the attacker's
// addresses are locked, the owner is only slowed (by a bounded delay) and
// logs in; an unknown email gets exactly the same answers.
func TestAttackLockOutVictimByFailingLogins(t *testing.T) {
	e := newEnv(t)
	var known, unknown []loginResult
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for n := range 8 {
			ip := "203.0.113." + strconv.Itoa(10+n%2) // two attacker addresses
			known = append(known, e.login(ownerEmail, "guess "+strconv.Itoa(n), ip))
		}
	}()
	go func() {
		defer wg.Done()
		for n := range 8 {
			unknown = append(unknown, e.login("nobody@acme.test", "guess "+strconv.Itoa(n), "203.0.113."+strconv.Itoa(20+n%2)))
		}
	}()
	wg.Wait()
	for i := range known {
		if known[i].code != unknown[i].code || known[i].msg != unknown[i].msg {
			t.Errorf("attempt %d tells emails apart: %q %q vs %q %q", i+1, known[i].code, known[i].msg, unknown[i].code, unknown[i].msg)
		}
		if known[i].code != latchkey.EUNAUTHORIZED {
			t.Errorf("attempt %d: got %q, want unauthenticated (4 guesses per address stay under the lockout)", i+1, known[i].code)
		}
	}
	e.clock.Add(10 * time.Minute) // the attack goes on from one address
	var more []loginResult
	for n := range 7 {
		more = append(more, e.login(ownerEmail, "more "+strconv.Itoa(n), "203.0.113.10"))
	}
	if r := more[len(more)-1]; r.code != latchkey.ERATELIMITED {
		t.Errorf("the attacker's address after its 10th failure: got %q, want rate_limited", r.code)
	}
	r := e.login(ownerEmail, ownerPassword, "198.51.100.7")
	if !r.ok {
		t.Fatalf("the owner from their own address during the attack: got %q %s, want a session", r.code, r.msg)
	}
	if r.took > 3*time.Second {
		t.Errorf("the owner's login took %v, want the bounded slow-down (at most 2s plus the hash)", r.took)
	}
}

// TestAttackSprayOneSourceManyEmails: one address guessing a common
// password across many accounts is locked as a source.
func TestAttackSprayOneSourceManyEmails(t *testing.T) {
	e := newEnv(t)
	codes := map[latchkey.Code]int{}
	for n := range 33 {
		codes[e.login(fmt.Sprintf("user%d@acme.test", n), "Summer2026!!", "203.0.113.50").code]++
	}
	if codes[latchkey.EUNAUTHORIZED] != 30 || codes[latchkey.ERATELIMITED] != 3 {
		t.Errorf("33 sprayed guesses: got %v, want 30 unauthenticated then rate_limited", codes)
	}
	if r := e.login(ownerEmail, ownerPassword, "198.51.100.7"); !r.ok {
		t.Errorf("the owner from elsewhere: got %q %s", r.code, r.msg)
	}
}

// TestAttackTimingRevealsPasswordlessAccounts: the answer for an account
// without a password (invited, provisioned) used to come in 9 ms against
// 330 ms for others. Now every login does one argon2id verification.
func TestAttackTimingRevealsPasswordlessAccounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := id.NewGenerator(time.Now, rand.Reader)
	if err := e.store.CreateUser(ctx, &latchkey.User{ID: ids.New(id.User), Email: "invited@acme.test", CreatedAt: e.clock.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	median := func(email string) (time.Duration, loginResult) {
		var ds []time.Duration
		var last loginResult
		for n := range 5 {
			last = e.login(email, "wrong password "+strconv.Itoa(n), "192.0.2."+strconv.Itoa(n+100))
			ds = append(ds, last.took)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[2], last
	}
	withPw, a := median(ownerEmail)
	without, b := median("invited@acme.test")
	unknown, c := median("nobody@acme.test")
	t.Logf("median: with a password %v, without %v, unknown %v", withPw, without, unknown)
	if a.msg != b.msg || b.msg != c.msg || a.code != b.code || b.code != c.code {
		t.Errorf("answers differ: %q / %q / %q", a.msg, b.msg, c.msg)
	}
	for name, d := range map[string]time.Duration{"without a password": without, "unknown": unknown} {
		if d < withPw/3 || d > withPw*3 {
			t.Errorf("an account %s answers in %v, one with a password in %v: the timing tells them apart", name, d, withPw)
		}
	}
	// The passwordless account cannot be logged into with an empty password.
	if r := e.login("invited@acme.test", "", "192.0.2.200"); r.ok {
		t.Error("an account without a password logged in with an empty one")
	}
}

// TestAttackLoginBurstExhaustsMemory: 64 logins at once, each for another
// email from another address so that the throttle lets every one through,
// used to run 64 argon2id hashes of 64 MiB at once (RSS 4 GB). The hash
// bound runs a few at a time and refuses the excess at once with
// rate_limited; the peak RSS of the burst stays within a few hundred MB.
func TestAttackLoginBurstExhaustsMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/status")
	}
	e := newEnv(t)
	runtime.GC()
	resetPeakRSS(t)
	before := peakRSS(t)
	res := e.burst(64, func(i int) (string, string, string) {
		return fmt.Sprintf("user%d@acme.test", i), "some wrong password", fmt.Sprintf("198.51.100.%d", i)
	})
	peak := peakRSS(t)
	t.Logf("hash bound %d; peak RSS %d MiB before the burst, %d MiB during it", password.Concurrency(), before>>20, peak>>20)
	limited, slowest := 0, time.Duration(0)
	for _, r := range res {
		switch r.code {
		case latchkey.ERATELIMITED:
			limited++
			slowest = max(slowest, r.took)
		case latchkey.EUNAUTHORIZED:
		default:
			t.Errorf("unexpected answer %q: %s", r.code, r.msg)
		}
	}
	if limited == 0 {
		t.Error("no login of the burst was refused: nothing bounds concurrent hashes")
	}
	if slowest > password.MaxWait+time.Second {
		t.Errorf("a refused login took %v: refusals must come fast, not after queueing", slowest)
	}
	if limit := int64(400 << 20); peak-before > limit {
		t.Errorf("the burst raised peak RSS by %d MiB, want under %d MiB", (peak-before)>>20, limit>>20)
	}
	// The owner is not locked out by the burst.
	if r := e.login(ownerEmail, ownerPassword, "192.0.2.77"); !r.ok {
		t.Errorf("the owner after the burst: got %q %s", r.code, r.msg)
	}
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (VmHWM), so the next reading measures what follows.
func resetPeakRSS(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// peakRSS reads VmHWM in bytes.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
