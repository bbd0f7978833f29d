package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestAddrTableNeverResetsOthers: a flood of new addresses fills the table
// but never clears the count of an address already in it (the old table
// cleared everything past 10,000 addresses); addresses whose window passed
// make room again.
func TestAddrTableNeverResetsOthers(t *testing.T) {
	tb := newAddrTable(100, 3, time.Hour)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for range 3 {
		if !tb.allow("victim", now) {
			t.Fatal("the first three requests are allowed")
		}
	}
	for i := range 1000 {
		tb.allow(fmt.Sprintf("flood-%d", i), now.Add(time.Duration(i)*time.Millisecond))
	}
	if len(tb.hits) > 100 {
		t.Fatalf("table holds %d addresses, bound 100", len(tb.hits))
	}
	if tb.allow("victim", now.Add(2*time.Second)) {
		t.Error("the flood of new addresses reset an address's count")
	}
	if tb.allow("newcomer", now.Add(2*time.Second)) {
		t.Error("a new address was counted in a full table")
	}
	later := now.Add(time.Hour + time.Minute)
	if !tb.allow("newcomer", later) || !tb.allow("victim", later) {
		t.Error("expired addresses do not make room")
	}
}

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	proxies, err := ParseTrustedProxies(" 10.20.0.5, 192.168.0.0/24 ,::1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies("10.0.0.300"); err == nil {
		t.Error("a malformed proxy address is accepted")
	}
	a := &API{proxies: proxies}
	for _, c := range []struct{ peer, xff, want string }{
		{"203.0.113.1:5000", "1.2.3.4", "203.0.113.1"},                  // not a proxy: header ignored
		{"10.20.0.5:5000", "", "10.20.0.5"},                             // a proxy without the header
		{"10.20.0.5:5000", "198.51.100.9", "198.51.100.9"},              // the phone behind the proxy
		{"10.20.0.5:5000", "6.6.6.6, 198.51.100.9", "198.51.100.9"},     // what the phone put first is ignored
		{"10.20.0.5:5000", "198.51.100.9, 192.168.0.7", "198.51.100.9"}, // two proxies deep
		{"10.20.0.5:5000", "junk", "10.20.0.5"},                         // malformed: the proxy itself
		{"[::1]:5000", "2001:db8::1", "2001:db8::1"},
	} {
		r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := a.clientIP(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if k1, k2 := addrKey("2001:db8:1:2::1"), addrKey("2001:db8:1:2:ffff::9"); k1 != k2 {
		t.Errorf("one IPv6 /64 counts as two addresses: %s %s", k1, k2)
	}
	if addrKey("::ffff:198.51.100.9") != "198.51.100.9" {
		t.Error("an IPv4-mapped address is not counted as its IPv4 address")
	}
}
