package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// rawRequest formats one HTTP/1.1 request, ready to be written as is.
func rawRequest(method, host, path string, headers map[string]string, body string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	if body != "" || method == "POST" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.Bytes()
}

// conn is a keep-alive HTTP/1.1 connection with a minimal response reader:
// the Go net/http client costs several times what the server does per
// request, and the load generator shares the machine with the server.
type conn struct {
	c net.Conn
	r *bufio.Reader
}

func dial(addr string) (*conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReaderSize(c, 16<<10)}, nil
}

// do writes req and reads the whole response, returning its status.
func (c *conn) do(req []byte) (int, error) {
	if _, err := c.c.Write(req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		}
	}
	switch {
	case chunked:
		return status, c.skipChunks()
	case length >= 0:
		_, err = c.r.Discard(length)
		return status, err
	case status == 204 || status == 304:
		return status, nil
	}
	return 0, errors.New("response without a length")
}

func (c *conn) skipChunks() error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			for { // trailers end with an empty line
				if line, err = c.r.ReadSlice('\n'); err != nil || len(line) <= 2 {
					return err
				}
			}
		}
		if _, err := c.r.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}

// loadResult is what a generator run observed.
type loadResult struct {
	Sent, Non2xx, Errors uint64
	Elapsed              time.Duration
	Hist                 hist
}

// openLoop sends reqs (cycled) to addr at a fixed arrival rate for d over
// conns connections, and measures each latency from the moment the request
// was due, not from when a connection was free to send it: a stalled server
// is charged for the requests that queued behind it (no coordinated
// omission, as in wrk2).
func openLoop(ctx context.Context, addr string, reqs [][]byte, rate float64, d time.Duration, conns int) (*loadResult, error) {
	total := int(rate * d.Seconds())
	due := make(chan time.Time, total)
	var mu sync.Mutex
	res := &loadResult{}
	var wg sync.WaitGroup
	var firstErr error
	for w := range conns {
		c, err := dial(addr)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { c.c.Close() }() // c changes on a reconnect
			h := new(hist)
			var non2xx, errs uint64
			var werr error
			i := w
			for t := range due {
				status, err := c.do(reqs[i%len(reqs)])
				i += conns
				h.record(time.Since(t))
				if err != nil {
					errs++
					if werr == nil {
						werr = err
					}
					c.c.Close()
					nc, err := dial(addr)
					if err != nil {
						break
					}
					c = nc
					continue
				}
				if status < 200 || status > 299 {
					non2xx++
				}
			}
			mu.Lock()
			res.Hist.merge(h)
			res.Non2xx += non2xx
			res.Errors += errs
			if firstErr == nil {
				firstErr = werr
			}
			mu.Unlock()
		}()
	}
	// The pacer releases requests on the schedule start + i/rate, checking
	// the clock every 100 µs rather than sleeping per request.
	start := time.Now()
	interval := float64(time.Second) / rate
	for sent := 0; sent < total && ctx.Err() == nil; {
		now := time.Since(start)
		for ; sent < total && time.Duration(float64(sent)*interval) <= now; sent++ {
			due <- start.Add(time.Duration(float64(sent) * interval))
		}
		time.Sleep(100 * time.Microsecond)
	}
	close(due)
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Sent = res.Hist.n
	if firstErr != nil {
		return res, fmt.Errorf("%d request errors, the first: %w", res.Errors, firstErr)
	}
	return res, ctx.Err()
}

// prime sends every request of reqs once over conns connections, as fast
// as the server answers, and fails on the first answer that is not a 200:
// it fills the verify cache before a warm run.
func prime(ctx context.Context, addr string, reqs [][]byte, conns int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		c, err := dial(addr)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.c.Close()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(reqs)) {
					return
				}
				status, err := c.do(reqs[i])
				if err == nil && status != 200 {
					err = fmt.Errorf("request %d answered %d, want 200", i, status)
				}
				if err != nil {
					errs <- err
					next.Store(int64(len(reqs)))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}
