// Package client is the Go client of the hall API, used by kiosks, tools
// and tests: REST calls with idempotency keys, and a websocket connection
// that multiplexes requests and follows the event stream, reconnecting and
// resuming from the last sequence number it saw.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"hallq/internal/tlcp"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Client talks to one hall server.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string
	HTTP    *http.Client
	// TLS, when set, configures the websocket's TLS (wss://); NewTLS sets
	// it together with HTTP's transport, so both trust the same CA.
	TLS *tls.Config
	// DialTLS, when set, makes the websocket's wss:// connections instead
	// of TLS; NewTLCP sets it to TLCP's dialer, as HTTP's transport.
	DialTLS func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a client for the server at baseURL.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 15 * time.Second}}
}

// NewTLS returns a client for an https:// server whose certificate is
// signed by the CA in caPEM (the hall CA's ca.pem, see hallq-ca); REST and
// the websocket (wss://) both trust that CA, and only it.
func NewTLS(baseURL, token string, caPEM []byte) (*Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("client: no CA certificate in the PEM given")
	}
	c := New(baseURL, token)
	c.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = c.TLS
	c.HTTP.Transport = tr
	return c, nil
}

// NewTLCP returns a client for a hall server's TLCP listener (-tlcp-addr,
// the 国密 transport; baseURL https://host:port) whose sign and encryption
// certificates are signed by the SM2 CA in caPEM: REST and the websocket
// both speak TLCP and trust only that CA.
func NewTLCP(baseURL, token string, caPEM []byte) (*Client, error) {
	if !strings.HasPrefix(baseURL, "https://") {
		return nil, fmt.Errorf("client: a TLCP server's address is https://host:port, got %q", baseURL)
	}
	tc, err := tlcp.NewClient(caPEM)
	if err != nil {
		return nil, err
	}
	c := New(baseURL, token)
	c.HTTP.Transport = tc.Transport()
	c.DialTLS = tc.DialContext
	return c, nil
}

// NewKey returns a random idempotency key.
func NewKey() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Do sends one request. A JSON error body becomes a *hall.Error; in (when
// not nil) is sent as JSON, out (when not nil) receives the reply.
//
// A change (any method but GET and HEAD) always carries an idempotency
// key: idem, or a fresh one when idem is empty. The server then applies
// the request at most once, which lets net/http send it again on a fresh
// connection when a kept-alive one turns out to have been closed by the
// server (a restart, its idle timeout) before the request reached it —
// without a key such a request fails with EOF although nothing arrived.
func (c *Client) Do(ctx context.Context, method, path, idem string, in, out any) (int, error) {
	if idem == "" && method != http.MethodGet && method != http.MethodHead {
		idem = NewKey()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return 0, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, transportError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, &hall.Error{Code: hall.Unavailable, Reason: ReasonNetwork, Message: err.Error()}
	}
	if resp.StatusCode >= 400 {
		var e wire.ErrorBody
		if json.Unmarshal(data, &e) == nil && e.Error.Code != "" {
			return resp.StatusCode, e.Error.Err()
		}
		return resp.StatusCode, &hall.Error{Code: hall.Internal, Message: fmt.Sprintf("HTTP %d: %.200s", resp.StatusCode, data)}
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("client: decode %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// Transport failure reasons: "unreachable" when no connection could be
// made (the request certainly did not arrive), "network" when the request
// may have arrived but no answer came back.
const (
	ReasonUnreachable = string(hall.ReasonUnreachable)
	ReasonNetwork     = string(hall.ReasonNetwork)
)

func transportError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return &hall.Error{Code: hall.Unavailable, Reason: ReasonUnreachable, Message: err.Error()}
	}
	return &hall.Error{Code: hall.Unavailable, Reason: ReasonNetwork, Message: err.Error()}
}

// Me returns who the token belongs to.
func (c *Client) Me(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	_, err := c.Do(ctx, "GET", "/api/v1/me", "", nil, &out)
	return out, err
}

// Services returns every service with its live figures.
func (c *Client) Services(ctx context.Context) ([]hall.ServiceView, error) {
	var out []hall.ServiceView
	_, err := c.Do(ctx, "GET", "/api/v1/services", "", nil, &out)
	return out, err
}

// Overview returns the live hall.
func (c *Client) Overview(ctx context.Context) (hall.Overview, error) {
	var out hall.Overview
	_, err := c.Do(ctx, "GET", "/api/v1/overview", "", nil, &out)
	return out, err
}

// Issue takes a ticket. Retrying with the same idem key returns the same ticket.
func (c *Client) Issue(ctx context.Context, idem string, r hall.IssueRequest) (hall.TicketView, error) {
	var out hall.TicketView
	_, err := c.Do(ctx, "POST", "/api/v1/tickets", idem, r, &out)
	return out, err
}

// CheckIn checks in a booking.
func (c *Client) CheckIn(ctx context.Context, idem string, r hall.CheckIn) (hall.TicketView, error) {
	var out hall.TicketView
	_, err := c.Do(ctx, "POST", "/api/v1/checkin", idem, r, &out)
	return out, err
}

// Matters returns the hall's matters with their checklists (public).
func (c *Client) Matters(ctx context.Context) (hall.HallMatters, error) {
	var out hall.HallMatters
	_, err := c.Do(ctx, "GET", "/api/v1/matters", "", nil, &out)
	return out, err
}

// Ticket returns one ticket.
func (c *Client) Ticket(ctx context.Context, id string) (hall.TicketView, error) {
	var out hall.TicketView
	_, err := c.Do(ctx, "GET", "/api/v1/tickets/"+url.PathEscape(id), "", nil, &out)
	return out, err
}

// CallHelper calls a floor helper (帮办) for the kiosk whose token c holds;
// pressing again while the call is open returns the same call.
func (c *Client) CallHelper(ctx context.Context) (hall.HelpCall, error) {
	var out hall.HelpCall
	_, err := c.Do(ctx, "POST", "/api/v1/help", "", nil, &out)
	return out, err
}

// HelpCalls lists today's helper calls (managers and admins).
func (c *Client) HelpCalls(ctx context.Context) ([]hall.HelpCall, error) {
	var out []hall.HelpCall
	_, err := c.Do(ctx, "GET", "/api/v1/help", "", nil, &out)
	return out, err
}

// Call calls the next ticket at window (or ticket id when not empty);
// ok is false when nothing waits.
func (c *Client) Call(ctx context.Context, idem string, window int, id string) (t hall.TicketView, ok bool, err error) {
	var body any
	if id != "" {
		body = wire.CallRequest{Ticket: id}
	}
	status, err := c.Do(ctx, "POST", "/api/v1/windows/"+strconv.Itoa(window)+"/call", idem, body, &t)
	return t, err == nil && status == http.StatusOK, err
}

// Act applies a ticket action (hall.ActStart, …); a carries its arguments.
func (c *Client) Act(ctx context.Context, idem, id, action string, a *hall.Action) (hall.TicketView, error) {
	var out hall.TicketView
	var body any
	if a != nil {
		body = a
	}
	_, err := c.Do(ctx, "POST", "/api/v1/tickets/"+url.PathEscape(id)+"/"+action, idem, body, &out)
	return out, err
}

// SetWindow opens, pauses or closes a window ("open", "pause", "close").
func (c *Client) SetWindow(ctx context.Context, window int, state, reason string) (hall.Window, error) {
	var out hall.Window
	var body any
	if reason != "" {
		body = wire.WindowRequest{Reason: reason}
	}
	_, err := c.Do(ctx, "POST", "/api/v1/windows/"+strconv.Itoa(window)+"/"+state, "", body, &out)
	return out, err
}

// Windows lists the windows.
func (c *Client) Windows(ctx context.Context) ([]hall.Window, error) {
	var out []hall.Window
	_, err := c.Do(ctx, "GET", "/api/v1/windows", "", nil, &out)
	return out, err
}

// EventPage is one page of GET /api/v1/events.
type EventPage struct {
	Events  []hall.Event `json:"events"`
	LastSeq uint64       `json:"last_seq"`
	More    bool         `json:"more"`
}

// Events returns events after seq.
func (c *Client) Events(ctx context.Context, after uint64, limit int) (EventPage, error) {
	var out EventPage
	_, err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/events?after=%d&limit=%d", after, limit), "", nil, &out)
	return out, err
}

// CreateToken creates an access token.
func (c *Client) CreateToken(ctx context.Context, r wire.TokenRequest) (wire.TokenCreated, error) {
	var out wire.TokenCreated
	_, err := c.Do(ctx, "POST", "/api/v1/tokens", "", r, &out)
	return out, err
}

// Lease reserves count offline numbers of a service for this kiosk.
func (c *Client) Lease(ctx context.Context, service string, count int) (hall.Lease, error) {
	var out hall.Lease
	_, err := c.Do(ctx, "POST", "/api/v1/leases", "", wire.LeaseRequest{Service: service, Count: count}, &out)
	return out, err
}

// ReleaseLease gives up a lease's unused numbers.
func (c *Client) ReleaseLease(ctx context.Context, id string) (hall.Lease, error) {
	var out hall.Lease
	_, err := c.Do(ctx, "POST", "/api/v1/leases/"+url.PathEscape(id)+"/release", "", nil, &out)
	return out, err
}

// HandOver gives the server a ticket issued offline.
func (c *Client) HandOver(ctx context.Context, o hall.OfflineTicket) (hall.TicketView, error) {
	var out hall.TicketView
	_, err := c.Do(ctx, "POST", "/api/v1/handover", fmt.Sprintf("handover:%s:%d", o.Lease, o.Number), o, &out)
	return out, err
}

// SealKey returns the hall server's public key (kiosk tokens only), to
// which a kiosk seals ID numbers: it derives no citizen key itself.
func (c *Client) SealKey(ctx context.Context) (string, error) {
	var out wire.SealKey
	_, err := c.Do(ctx, "GET", "/api/v1/kiosk/seal-key", "", nil, &out)
	return out.PublicKey, err
}

// ReportDevices sends the kiosk's device health.
func (c *Client) ReportDevices(ctx context.Context, d wire.DeviceHealth) error {
	_, err := c.Do(ctx, "POST", "/api/v1/devices", "", d, nil)
	return err
}

// Tickets lists today's tickets (staff roles).
func (c *Client) Tickets(ctx context.Context) ([]hall.TicketView, error) {
	var out []hall.TicketView
	_, err := c.Do(ctx, "GET", "/api/v1/tickets", "", nil, &out)
	return out, err
}
