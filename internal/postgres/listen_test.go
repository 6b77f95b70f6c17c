package postgres

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// listener runs Listen in the background and records what it reports.
type listener struct {
	payloads chan string
	states   chan bool
	done     chan error
	cancel   context.CancelFunc
}

func startListen(t *testing.T, db *DB, channel string) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{payloads: make(chan string, 100), states: make(chan bool, 100), done: make(chan error, 1), cancel: cancel}
	go func() {
		l.done <- db.Listen(ctx, channel, func(p string) { l.payloads <- p }, func(c bool) { l.states <- c })
	}()
	t.Cleanup(func() {
		cancel()
		<-l.done
	})
	return l
}

func (l *listener) wantState(t *testing.T, want bool) {
	t.Helper()
	select {
	case got := <-l.states:
		if got != want {
			t.Fatalf("onState: got %v, want %v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("onState: got nothing in 10s, want %v", want)
	}
}

func (l *listener) wantPayload(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-l.payloads:
		if got != want {
			t.Fatalf("payload: got %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("payload: got nothing in 10s, want %q", want)
	}
}

func TestListen(t *testing.T) {
	s := newTestServer(t)
	db := open(t, s.schema())
	ctx := context.Background()
	// Mixed case and a dash: the channel must be quoted, as pg_notify
	// takes its name literally.
	const channel = "Latchkey-Keys"
	l := startListen(t, db, channel)
	l.wantState(t, true)
	for _, p := range []string{"key_1", "", `{"id": "key_2", "note": "ünïcode 'quotes'"}`} {
		if err := db.Notify(ctx, channel, p); err != nil {
			t.Fatalf("Notify: got %v, want nil", err)
		}
		l.wantPayload(t, p)
	}
	if err := db.Notify(ctx, "other", "not for us"); err != nil {
		t.Fatalf("Notify(other): got %v, want nil", err)
	}

	// The server ends the session: Listen reports the loss, reconnects,
	// re-subscribes and reports that too, and notifications flow again.
	var n int
	err := s.admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND application_name = 'latchkey listen'`, s.name).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminate the listener: got %d, %v, want 1", n, err)
	}
	l.wantState(t, false)
	l.wantState(t, true)
	if err := db.Notify(ctx, channel, "after reconnect"); err != nil {
		t.Fatalf("Notify: got %v, want nil", err)
	}
	l.wantPayload(t, "after reconnect")

	// Cancelling ends Listen with nil and a last onState(false).
	l.cancel()
	select {
	case err := <-l.done:
		l.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("Listen after cancel: got %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Listen did not return within 5s of cancel")
	}
	l.wantState(t, false)
	select {
	case p := <-l.payloads:
		t.Fatalf("payload: got %q, want only the channel's", p)
	default:
	}

	if err := db.Listen(ctx, "", func(string) {}, nil); err == nil {
		t.Fatalf("Listen(no channel): got nil, want an error")
	}
}

// TestListenSilentConnection cuts the listener's connection without
// closing it, as a dead network does: the idle ping must notice.
func TestListenSilentConnection(t *testing.T) {
	s := newTestServer(t)
	target := s.conf(t)
	p := newFreezingProxy(t, net.JoinHostPort(target.Host, strconv.Itoa(int(target.Port))))
	db := open(t, s.schema())
	db.conn.Host, db.conn.Port = p.host, p.port
	db.conn.Fallbacks = nil

	oldIdle, oldPing := listenIdle, listenPing
	listenIdle, listenPing = 200*time.Millisecond, 200*time.Millisecond
	t.Cleanup(func() { listenIdle, listenPing = oldIdle, oldPing })

	l := startListen(t, db, "keys")
	l.wantState(t, true)
	// Idle waits that end in a good ping keep the connection and lose nothing.
	time.Sleep(3 * listenIdle)
	if err := db.Notify(context.Background(), "keys", "after idling"); err != nil {
		t.Fatalf("Notify: got %v, want nil", err)
	}
	l.wantPayload(t, "after idling")
	p.freeze()
	l.wantState(t, false)
	l.wantState(t, true) // through a new, unfrozen connection
	// Notify's own connection froze too: a call times out rather than
	// hang, and the next one goes through a new connection.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	err := db.Notify(ctx, "keys", "lost in the freeze")
	cancel()
	if err == nil {
		t.Fatal("Notify over the frozen connection: got nil, want an error")
	}
	if err := db.Notify(context.Background(), "keys", "after the cut"); err != nil {
		t.Fatalf("Notify: got %v, want nil", err)
	}
	l.wantPayload(t, "after the cut")
}

// TestListenDuringPings sends notifications while the listener pings
// between very short idle waits: those that arrive during a ping must
// reach fn too, in order.
func TestListenDuringPings(t *testing.T) {
	s := newTestServer(t)
	db := open(t, s.schema())
	oldIdle := listenIdle
	listenIdle = time.Millisecond
	t.Cleanup(func() { listenIdle = oldIdle })
	l := startListen(t, db, "keys")
	l.wantState(t, true)
	const n = 300
	for i := range n {
		if err := db.Notify(context.Background(), "keys", strconv.Itoa(i)); err != nil {
			t.Fatalf("Notify: got %v, want nil", err)
		}
	}
	for i := range n {
		l.wantPayload(t, strconv.Itoa(i))
	}
	select {
	case c := <-l.states:
		t.Fatalf("onState: got %v, want no change while pinging", c)
	default:
	}
}

// conf returns the connection settings of the test server.
func (s *testServer) conf(t *testing.T) *pgx.ConnConfig {
	cfg, err := pgx.ParseConfig(s.url(nil))
	if err != nil {
		t.Fatalf("ParseConfig: got %v, want nil", err)
	}
	return cfg
}

// freezingProxy forwards TCP connections to a server until freeze, after
// which the connections it has carried go silent: their bytes are dropped
// but nothing is closed. Later connections work.
type freezingProxy struct {
	host string
	port uint16
	mu   sync.Mutex
	live []*frozen
}

type frozen struct {
	mu     sync.Mutex
	silent bool
}

func (f *frozen) isSilent() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.silent
}

func newFreezingProxy(t *testing.T, target string) *freezingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: got %v, want nil", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	p := &freezingProxy{host: "127.0.0.1", port: uint16(addr.Port)}
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			connsMu.Lock()
			conns = append(conns, c, up)
			connsMu.Unlock()
			f := &frozen{}
			p.mu.Lock()
			p.live = append(p.live, f)
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 && !f.isSilent() {
						dst.Write(buf[:n])
					}
					if err != nil {
						dst.Close()
						return
					}
				}
			}
			wg.Go(func() { pipe(up, c) })
			wg.Go(func() { pipe(c, up) })
		}
	})
	return p
}

// freeze silences every connection carried so far.
func (p *freezingProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.live {
		f.mu.Lock()
		f.silent = true
		f.mu.Unlock()
	}
}
