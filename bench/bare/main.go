// Command bare is the ceiling of the load harness: a net/http server whose
// only handler answers a fixed 60-byte JSON body, so that latchkey's verify
// endpoints can be compared with Go's HTTP stack doing nothing else on the
// same machine in the same run. It prints "listening on http://ADDR" once
// it accepts connections, and exits on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // on http.DefaultServeMux, served only with -pprof-addr
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// body is 60 bytes, about the size of a small verify answer.
const body = `{"valid":true,"key":{"id":"key_01JBENCHBARE0000000000000"}}` + "\n"

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	pprofAddr := flag.String("pprof-addr", "", "serve net/http/pprof on this address, apart from the measured listener")
	flag.Parse()
	if len(body) != 60 {
		fmt.Fprintf(os.Stderr, "bare: body is %d bytes, want 60\n", len(body))
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
	if *pprofAddr != "" {
		go func() { fmt.Fprintln(os.Stderr, "bare: pprof:", http.ListenAndServe(*pprofAddr, nil)) }()
	}
	length := strconv.Itoa(len(body))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{length}
		_, _ = w.Write([]byte(body))
	})}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}
