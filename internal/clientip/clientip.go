// Package clientip tells the address of the client behind a request, for
// the audit log and for login throttling. Behind a reverse proxy the TCP
// peer is the proxy, so X-Forwarded-For is believed, but only as far as
// it was written by proxies the operator declared trusted: anyone can send
// the header, so trusting it blindly would let an attacker pick the
// address their failed logins are counted under.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds client addresses given the trusted proxies.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver trusting the given proxies: CIDR prefixes
// ("10.0.0.0/8") or single addresses.
func New(trusted []string) (*Resolver, error) {
	r := &Resolver{}
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if p, err := netip.ParsePrefix(t); err == nil {
			r.trusted = append(r.trusted, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(t)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR prefix", t)
		}
		r.trusted = append(r.trusted, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return r, nil
}

// Peer is the TCP peer's address without its port.
func Peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// IP returns the client's address: the TCP peer, or, when the peer is a
// trusted proxy, the right-most address of X-Forwarded-For that is not one.
func (res *Resolver) IP(r *http.Request) string {
	peer := Peer(r)
	if !res.isTrusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(hop)
		if err != nil {
			break // a malformed hop: stop believing the chain here
		}
		if !res.isTrusted(hop) {
			return a.Unmap().String()
		}
	}
	return peer
}

// PeerAddr is the TCP peer's address, IPv4-mapped addresses unmapped;
// the zero Addr when RemoteAddr holds none.
func PeerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap()
}

// Addr is IP as a netip.Addr, without allocating (the verify path checks
// keys bound to networks against it on every forward-auth request): the
// TCP peer, or, when the peer is a trusted proxy, the right-most address
// of X-Forwarded-For that is not one. A malformed hop ends the chain
// there, as in IP.
func (res *Resolver) Addr(r *http.Request) netip.Addr {
	peer := PeerAddr(r)
	if !res.trustedAddr(peer) {
		return peer
	}
	vals := r.Header["X-Forwarded-For"]
	for i := len(vals) - 1; i >= 0; i-- {
		for v := vals[i]; ; {
			hop := v
			j := strings.LastIndexByte(v, ',')
			if j >= 0 {
				hop, v = v[j+1:], v[:j]
			}
			a, err := netip.ParseAddr(strings.TrimSpace(hop))
			if err != nil {
				return peer
			}
			if a = a.Unmap(); !res.trustedAddr(a) {
				return a
			}
			if j < 0 {
				break
			}
		}
	}
	return peer
}

func (res *Resolver) trustedAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (res *Resolver) isTrusted(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
