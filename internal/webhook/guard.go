package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errBlocked is returned by the dialer for an address webhooks may not
// reach. It is logged for the operator, never stored: the attempt records
// the same failure as any connection that did not succeed.
var errBlocked = errors.New("webhook: destination address is not public")

// blocked are the ranges that are not the public internet, beyond what
// netip's predicates already tell (loopback, private, link-local,
// multicast, unspecified). Documentation and benchmarking ranges are
// included: nothing legitimate listens there, and some networks route them
// internally.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, ORCHID…)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated, still routed by some)
}

// nat64 and sixToFour embed an IPv4 address, which is judged instead.
var (
	nat64      = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48")}
	sixToFour  = netip.MustParsePrefix("2002::/16")
	metadataV6 = netip.MustParseAddr("fd00:ec2::254") // AWS IMDS over IPv6; inside fc00::/7, named for clarity
)

// Public reports whether ip is an address on the public internet, the
// only kind a webhook may reach unless the operator allows more. IPv4
// written as IPv6 (::ffff:a.b.c.d, NAT64, 6to4) is judged as the IPv4
// address it carries.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is6() {
		for _, p := range nat64 {
			if p.Contains(ip) {
				b := ip.As16()
				return Public(netip.AddrFrom4([4]byte(b[12:16])))
			}
		}
		if sixToFour.Contains(ip) {
			b := ip.As16()
			return Public(netip.AddrFrom4([4]byte(b[2:6])))
		}
		if ip.Zone() != "" || ip == metadataV6 {
			return false
		}
	}
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// control runs after the name is resolved and before each connection is
// made, so it judges the very address dialled: a name that resolved to a
// public address when the key was saved and to 127.0.0.1 now (DNS
// rebinding) is refused here.
func control(_ context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errBlocked, address)
	}
	if network != "tcp4" && network != "tcp6" && network != "tcp" {
		return fmt.Errorf("%w: network %s", errBlocked, network)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("%w: %s", errBlocked, ap.Addr())
	}
	return nil
}

// newClient returns the client webhooks are sent with: no proxy from the
// environment (a proxy would dial on our behalf, past the address check),
// no redirect followed, every connection's address checked unless
// allowPrivate.
func newClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.ControlContext = control
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            d.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           20,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    timeout,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 16 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
