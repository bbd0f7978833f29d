package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/auth"
	"hallq/central/booking"
	"hallq/queue-server/hall"
)

// Reason names a refusal of the notifications API precisely; the pages
// switch on it. Spelled once, here, and listed in docs/central.md.
type Reason string

// Reasons.
const (
	ReasonBadJSON       Reason = "bad_json"       // the body is not one JSON object of the documented shape
	ReasonUnknownField  Reason = "unknown_field"  // the body names a field the API does not have
	ReasonBadField      Reason = "bad_field"      // a field's value is not allowed (the message names it)
	ReasonNoToken       Reason = "no_token"       // not signed in
	ReasonBadToken      Reason = "bad_token"      // the credentials are refused
	ReasonNotCitizen    Reason = "not_citizen"    // staff on a citizen route
	ReasonSMSOff        Reason = "sms_off"        // this platform sends no SMS (no provider configured)
	ReasonNoPhone       Reason = "no_phone"       // SMS kinds chosen and no phone number given
	ReasonUnknownTicket Reason = "unknown_ticket" // no such ticket at the central (yet)
	ReasonTicketOver    Reason = "ticket_over"    // the ticket is served, cancelled or expired
	ReasonTooMany       Reason = "too_many"       // too many browsers on one ticket or one citizen
)

// Error is the API's refusal: {"error": {"code", "reason", "message"}},
// the booking API's shape and codes.
type Error struct {
	Code    booking.Code `json:"code"`
	Reason  Reason       `json:"reason,omitempty"`
	Message string       `json:"message"`
	cause   error
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func refuse(c booking.Code, r Reason, format string, args ...any) *Error {
	return &Error{Code: c, Reason: r, Message: fmt.Sprintf(format, args...)}
}

// Routes are the notifications API's routes by ServeMux pattern
// (docs/central.md, "Notifications"):
//
//	GET    /api/v1/notifications/vapid-key        public: the VAPID application server key
//	GET    /api/v1/notifications                  citizen: my choices (phone masked)
//	PUT    /api/v1/notifications/push             citizen: this browser, and the kinds pushed
//	DELETE /api/v1/notifications/push             citizen: this browser (or every one) off
//	PUT    /api/v1/notifications/sms              citizen: phone number and the kinds texted
//	DELETE /api/v1/notifications/sms              citizen: SMS off, the number deleted
//	GET    /api/v1/tickets/{id}/notifications     public: is this browser following the ticket
//	PUT    /api/v1/tickets/{id}/notifications     public: push for this ticket alone, no sign-in
//	DELETE /api/v1/tickets/{id}/notifications     public: stop it
func Routes(s *Service, a booking.Authenticator) map[string]http.Handler {
	h := &api{s: s, a: a}
	return map[string]http.Handler{
		"GET /api/v1/notifications/vapid-key":       h.wrap(h.vapid),
		"GET /api/v1/notifications":                 h.wrap(h.mine),
		"PUT /api/v1/notifications/push":            h.wrap(h.putPush),
		"DELETE /api/v1/notifications/push":         h.wrap(h.deletePush),
		"PUT /api/v1/notifications/sms":             h.wrap(h.putSMS),
		"DELETE /api/v1/notifications/sms":          h.wrap(h.deleteSMS),
		"GET /api/v1/tickets/{id}/notifications":    h.wrap(h.ticketGet),
		"PUT /api/v1/tickets/{id}/notifications":    h.wrap(h.ticketPut),
		"DELETE /api/v1/tickets/{id}/notifications": h.wrap(h.ticketDelete),
	}
}

type api struct {
	s *Service
	a booking.Authenticator
}

func (h *api) wrap(f func(r *http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, body, err := f(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Code: booking.Unavailable, Message: "the notification service cannot reach its store; please retry", cause: err}
				h.s.log.Error("notify api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			st, body = booking.Status(e.Code), map[string]any{"error": e}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(st)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(body)
	}
}

func decode(r *http.Request, v any, optional bool) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16+1))
	if err != nil || len(body) > 1<<16 {
		return refuse(booking.Invalid, ReasonBadJSON, "the body could not be read, or is larger than 64 KiB")
	}
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, found := strings.CutPrefix(err.Error(), "json: unknown field "); found {
			return refuse(booking.Invalid, ReasonUnknownField, "unknown field %s", f)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return refuse(booking.Invalid, ReasonBadJSON, "field %q must be %s", te.Field, te.Type)
		}
		return refuse(booking.Invalid, ReasonBadJSON, "the body is not a JSON object of the documented shape")
	}
	if dec.More() {
		return refuse(booking.Invalid, ReasonBadJSON, "the body holds more than one JSON value")
	}
	return nil
}

func (h *api) citizen(r *http.Request) (auth.Citizen, error) {
	p, err := h.a.Request(r)
	if errors.Is(err, auth.ErrNoToken) {
		return auth.Citizen{}, refuse(booking.Unauthorized, ReasonNoToken, "sign in first")
	}
	if err != nil {
		return auth.Citizen{}, refuse(booking.Unauthorized, ReasonBadToken, "the sign-in is refused: %v", err)
	}
	if p.Citizen == nil {
		return auth.Citizen{}, refuse(booking.Forbidden, ReasonNotCitizen, "notifications are for citizens signed in with their ID number")
	}
	return *p.Citizen, nil
}

func checkKinds(field string, ks []Kind, allowed []Kind) ([]Kind, error) {
	out := []Kind{}
	for _, k := range ks {
		if !slices.Contains(allowed, k) {
			return nil, refuse(booking.Invalid, ReasonBadField, "%s: %q is not one of %v", field, k, allowed)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

func checkLang(l string) (string, error) {
	switch l {
	case "":
		return "zh", nil
	case "zh", "en":
		return l, nil
	}
	return "", refuse(booking.Invalid, ReasonBadField, "lang must be zh or en")
}

// NormalizePhone accepts a mainland mobile number (11 digits from 1[3-9],
// optionally +86 or 86 before it, spaces and hyphens allowed) and returns
// it as +86 and the 11 digits.
func NormalizePhone(s string) (string, error) {
	d := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	d = strings.TrimPrefix(d, "+86")
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' || strings.ContainsFunc(d, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", refuse(booking.Invalid, ReasonBadField, "phone must be a mainland mobile number, 11 digits starting 13–19, e.g. 138 0013 8000")
	}
	return "+86" + d, nil
}

// Choices is the body of GET /api/v1/notifications.
type Choices struct {
	Push         []Kind    `json:"push"`
	SMS          []Kind    `json:"sms"`
	Devices      int       `json:"devices"`
	ThisDevice   bool      `json:"this_device"` // ?endpoint= names a device subscribed
	Phone        string    `json:"phone"`       // masked, "" when none is kept
	SMSAvailable bool      `json:"sms_available"`
	Kinds        []Kind    `json:"kinds"`
	TicketKinds  []Kind    `json:"ticket_kinds"`
	Ahead        int       `json:"ahead"`
	Evening      string    `json:"remind_evening"`  // HH:MM, or off
	BeforeS      int       `json:"remind_before_s"` // 0: none
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

func (h *api) vapid(*http.Request) (int, any, error) {
	return http.StatusOK, map[string]string{"public_key": h.s.VAPIDPublicKey()}, nil
}

func (h *api) choices(ctx context.Context, c auth.Citizen, endpoint string) (Choices, error) {
	out := Choices{Push: []Kind{}, SMS: []Kind{}, SMSAvailable: h.s.sms != nil, Kinds: Kinds, TicketKinds: TicketKinds,
		Ahead: h.s.cfg.Ahead, Evening: h.s.cfg.RemindEvening, BeforeS: int(max(0, h.s.cfg.RemindBefore).Seconds())}
	p, _, err := get[Prefs](ctx, h.s.subs, "c."+c.Key)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return out, err
	}
	out.Push, out.SMS = append(out.Push, p.Push...), append(out.SMS, p.SMS...)
	out.Devices, out.UpdatedAt = len(p.Devices), p.UpdatedAt
	out.ThisDevice = endpoint != "" && slices.ContainsFunc(p.Devices, func(d Device) bool { return d.Sub.Endpoint == endpoint })
	ph, _, err := get[Phone](ctx, h.s.subs, "p."+c.Key)
	if err == nil {
		out.Phone = ph.masked()
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return out, err
	}
	return out, nil
}

func (h *api) mine(r *http.Request) (int, any, error) {
	c, err := h.citizen(r)
	if err != nil {
		return 0, nil, err
	}
	ch, err := h.choices(r.Context(), c, r.URL.Query().Get("endpoint"))
	return http.StatusOK, ch, err
}

// PushRequest is the body of PUT /api/v1/notifications/push.
type PushRequest struct {
	Subscription PushSub `json:"subscription"`
	Kinds        []Kind  `json:"kinds"`
	Lang         string  `json:"lang,omitempty"`
}

func (h *api) putPush(r *http.Request) (int, any, error) {
	c, err := h.citizen(r)
	if err != nil {
		return 0, nil, err
	}
	var req PushRequest
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	if err := req.Subscription.check(); err != nil {
		return 0, nil, refuse(booking.Invalid, ReasonBadField, "%v", err)
	}
	kinds, err := checkKinds("kinds", req.Kinds, Kinds)
	if err != nil {
		return 0, nil, err
	}
	lang, err := checkLang(req.Lang)
	if err != nil {
		return 0, nil, err
	}
	now := time.Now()
	d := Device{ID: shortHash(c.Key, req.Subscription.Endpoint), Sub: req.Subscription, Lang: lang, At: now}
	if _, err := update(r.Context(), h.s.subs, "c."+c.Key, func(p *Prefs, _ bool) (bool, error) {
		if i := slices.IndexFunc(p.Devices, func(x Device) bool { return x.ID == d.ID }); i >= 0 {
			p.Devices[i] = d
		} else {
			if len(p.Devices) >= 5 {
				return false, refuse(booking.QuotaExceeded, ReasonTooMany, "at most 5 browsers; turn one off first")
			}
			p.Devices = append(p.Devices, d)
		}
		p.Push, p.UpdatedAt = kinds, now
		return false, nil
	}); err != nil {
		return 0, nil, err
	}
	ch, err := h.choices(r.Context(), c, req.Subscription.Endpoint)
	return http.StatusOK, ch, err
}

// EndpointRequest names one browser's subscription.
type EndpointRequest struct {
	Endpoint string `json:"endpoint"`
}

func (h *api) deletePush(r *http.Request) (int, any, error) {
	c, err := h.citizen(r)
	if err != nil {
		return 0, nil, err
	}
	var req EndpointRequest
	if err := decode(r, &req, true); err != nil {
		return 0, nil, err
	}
	if _, err := update(r.Context(), h.s.subs, "c."+c.Key, func(p *Prefs, exists bool) (bool, error) {
		if !exists {
			return false, errNoChange
		}
		if req.Endpoint == "" {
			p.Devices = nil
		} else {
			p.Devices = slices.DeleteFunc(p.Devices, func(d Device) bool { return d.Sub.Endpoint == req.Endpoint })
		}
		if len(p.Devices) == 0 {
			p.Push = nil
		}
		p.UpdatedAt = time.Now()
		return false, nil
	}); err != nil {
		return 0, nil, err
	}
	ch, err := h.choices(r.Context(), c, "")
	return http.StatusOK, ch, err
}

// SMSRequest is the body of PUT /api/v1/notifications/sms.
type SMSRequest struct {
	Phone string `json:"phone,omitempty"` // absent: keep the number given before
	Kinds []Kind `json:"kinds"`
	Lang  string `json:"lang,omitempty"`
}

func (h *api) putSMS(r *http.Request) (int, any, error) {
	c, err := h.citizen(r)
	if err != nil {
		return 0, nil, err
	}
	if h.s.sms == nil {
		return 0, nil, refuse(booking.Conflict, ReasonSMSOff, "this platform sends no text messages; choose Web Push")
	}
	var req SMSRequest
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	kinds, err := checkKinds("kinds", req.Kinds, Kinds)
	if err != nil {
		return 0, nil, err
	}
	lang, err := checkLang(req.Lang)
	if err != nil {
		return 0, nil, err
	}
	var phone string
	if req.Phone != "" {
		if phone, err = NormalizePhone(req.Phone); err != nil {
			return 0, nil, err
		}
	} else if _, _, err := get[Phone](r.Context(), h.s.subs, "p."+c.Key); errors.Is(err, jetstream.ErrKeyNotFound) && len(kinds) > 0 {
		return 0, nil, refuse(booking.Invalid, ReasonNoPhone, "give a phone number for text messages")
	} else if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil, err
	}
	ctx := r.Context()
	if len(kinds) == 0 {
		return h.deleteSMS(r)
	}
	if phone != "" { // checked and written before the choices, so no SMS is decided without a number
		body, _ := json.Marshal(Phone{Number: phone, At: time.Now()})
		if _, err := h.s.subs.Put(ctx, "p."+c.Key, body); err != nil {
			return 0, nil, err
		}
	}
	if _, err := update(ctx, h.s.subs, "c."+c.Key, func(p *Prefs, _ bool) (bool, error) {
		p.SMS, p.Lang, p.UpdatedAt = kinds, lang, time.Now()
		return false, nil
	}); err != nil {
		return 0, nil, err
	}
	ch, err := h.choices(ctx, c, "")
	return http.StatusOK, ch, err
}

func (h *api) deleteSMS(r *http.Request) (int, any, error) {
	c, err := h.citizen(r)
	if err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	if _, err := update(ctx, h.s.subs, "c."+c.Key, func(p *Prefs, exists bool) (bool, error) {
		if !exists || len(p.SMS) == 0 {
			return false, errNoChange
		}
		p.SMS, p.UpdatedAt = nil, time.Now()
		return false, nil
	}); err != nil {
		return 0, nil, err
	}
	if err := h.s.subs.Delete(ctx, "p."+c.Key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil, err
	}
	ch, err := h.choices(ctx, c, "")
	return http.StatusOK, ch, err
}

// ---- a ticket followed without sign-in ----

// TicketRequest is the body of PUT /api/v1/tickets/{id}/notifications.
type TicketRequest struct {
	Subscription PushSub `json:"subscription"`
	Kinds        []Kind  `json:"kinds,omitempty"` // default: every ticket kind
	Lang         string  `json:"lang,omitempty"`
}

// TicketFollow is the reply of the ticket routes.
type TicketFollow struct {
	Ticket    string `json:"ticket"`
	Following bool   `json:"following"`
	Kinds     []Kind `json:"kinds"`
}

func (h *api) openTicket(ctx context.Context, id string) (string, error) {
	t, err := h.s.ticketState(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return "", refuse(booking.NotFound, ReasonUnknownTicket, "there is no ticket %q at the central (yet)", id)
	}
	if err != nil {
		return "", err
	}
	if !hall.Status(t.Status).Open() && hall.Status(t.Status) != hall.NoShow {
		return "", refuse(booking.Conflict, ReasonTicketOver, "ticket %s is %s", t.Number, t.Status)
	}
	return t.Hall, nil
}

func (h *api) ticketPut(r *http.Request) (int, any, error) {
	id := r.PathValue("id")
	var req TicketRequest
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	if err := req.Subscription.check(); err != nil {
		return 0, nil, refuse(booking.Invalid, ReasonBadField, "%v", err)
	}
	kinds, err := checkKinds("kinds", req.Kinds, TicketKinds)
	if err != nil {
		return 0, nil, err
	}
	if len(kinds) == 0 {
		kinds = TicketKinds
	}
	lang, err := checkLang(req.Lang)
	if err != nil {
		return 0, nil, err
	}
	hallID, err := h.openTicket(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	prefix := "f." + hallID + "." + id + "."
	dev := Device{ID: shortHash("ticket", id, req.Subscription.Endpoint), Sub: req.Subscription, Lang: lang, At: time.Now()}
	if l, err := h.s.subs.ListKeysFiltered(r.Context(), prefix+"*"); err == nil {
		n := 0
		for k := range l.Keys() {
			if k != prefix+dev.ID {
				n++
			}
		}
		if n >= 10 {
			return 0, nil, refuse(booking.QuotaExceeded, ReasonTooMany, "this ticket is followed by 10 browsers already")
		}
	}
	body, _ := json.Marshal(Follow{Hall: hallID, Ticket: id, Device: &dev, Kinds: kinds})
	if _, err := h.s.subs.Put(r.Context(), prefix+dev.ID, body); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, TicketFollow{Ticket: id, Following: true, Kinds: kinds}, nil
}

func (h *api) ticketKey(ctx context.Context, id, endpoint string) (string, error) {
	if endpoint == "" {
		return "", refuse(booking.Invalid, ReasonBadField, "endpoint is required")
	}
	t, err := h.s.ticketState(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return "", refuse(booking.NotFound, ReasonUnknownTicket, "there is no ticket %q at the central", id)
	}
	if err != nil {
		return "", err
	}
	return "f." + t.Hall + "." + id + "." + shortHash("ticket", id, endpoint), nil
}

func (h *api) ticketGet(r *http.Request) (int, any, error) {
	id := r.PathValue("id")
	key, err := h.ticketKey(r.Context(), id, r.URL.Query().Get("endpoint"))
	if err != nil {
		return 0, nil, err
	}
	f, _, err := get[Follow](r.Context(), h.s.subs, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return http.StatusOK, TicketFollow{Ticket: id, Kinds: []Kind{}}, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, TicketFollow{Ticket: id, Following: true, Kinds: f.Kinds}, nil
}

func (h *api) ticketDelete(r *http.Request) (int, any, error) {
	id := r.PathValue("id")
	var req EndpointRequest
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	key, err := h.ticketKey(r.Context(), id, req.Endpoint)
	if err != nil {
		return 0, nil, err
	}
	if err := h.s.subs.Delete(r.Context(), key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil, err
	}
	return http.StatusOK, TicketFollow{Ticket: id, Kinds: []Kind{}}, nil
}
