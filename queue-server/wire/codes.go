package wire

import (
	"bytes"
	"fmt"
	"strings"

	"hallq/queue-server/hall"
)

//go:generate go run ./gencodes

// Frame types, in a stable order.
var FrameTypes = []string{FrameHello, FrameWelcome, FrameEvent, FrameServices, FrameResync, FrameRequest, FrameReply, FrameError}

// Ops lists the operation names (a websocket request's op, the REST
// routes' x-operation in the OpenAPI document); the API's operation table
// is held to it by a test.
var Ops = []string{
	"me", "services.list", "overview", "tickets.issue", "tickets.get", "tickets.remote", "tickets.list",
	"tickets.action", "windows.list", "windows.queue", "windows.call", "windows.set", "events.list", "checkin",
	"leases.grant", "leases.release", "handover", "kiosk.sealkey", "bookings.list", "bookings.upsert",
	"blacklist.set", "tokens.list", "tokens.create", "tokens.revoke", "day.close", "devices.report",
	"devices.list", "reports", "config", "config.update", "users.list", "users.create", "deadletters.list",
	"deadletters.resend", "login", "logout", "users.delete", "blacklist.list", "blacklist.remove",
	"day.preview", "figures", "alerts", "backup",
	"tickets.postpone", "help.call", "help.list", "help.ack",
	"board.notices.post", "board.notices.delete", "board.media.upload", "board.media.get", "board.media.delete",
	"matters.list", "tickets.notice", "tickets.evaluate",
}

// DeprecatedOps maps the old operation names the API still answers to the
// names that replaced them (docs/protocol.md, "Deprecated names"): same
// roles, same handler, same answers. New clients use the new names.
var DeprecatedOps = map[string]string{
	"appointments.list":   "bookings.list",   // GET /api/v1/appointments → GET /api/v1/bookings
	"appointments.upsert": "bookings.upsert", // POST /api/v1/appointments → POST /api/v1/bookings
}

// ClientNetwork is the error code the pages' request helper gives when no
// answer came (the server never sends it).
const ClientNetwork = "network"

// Device states a kiosk reports (DeviceHealth).
const (
	DeviceOK        = "ok"
	DeviceAbsent    = "absent"
	DeviceError     = "error"
	PrinterPaperLow = "paper_low"
	PrinterPaperOut = "paper_out"
	PrinterCover    = "cover_open"
	PrinterOffline  = "offline"
)

// CodeGroup is one vocabulary shared by the server, its clients and the
// pages: every value it may take, spelt once.
type CodeGroup struct {
	Name   string   // as the JS module exports it, e.g. "Action"
	Where  string   // where it appears on the wire
	Values []string // in a stable order
}

func strs[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// CodeGroups is every shared code. docs/protocol.md ("Codes") and the
// pages' module ui/web/static/assets/js/codes.js are generated from it
// (go generate ./queue-server/wire); tests hold both to it, hold it to the
// domain's constants and the OpenAPI document, and fail when a page's JS
// names a code that is not here.
var CodeGroups = []CodeGroup{
	{"ErrorCode", "`error.code`", strs(hall.Codes...)},
	{"Reason", "`error.reason`", strs(hall.Reasons...)},
	{"ClientErrorCode", "`error.code` the pages' helpers (hallq.js) give a request that got no answer", []string{ClientNetwork}},
	{"EventReason", "`event.reason` (besides free text)", strs(hall.EventReasonList...)},
	{"Role", "token roles, `role` in `me` and `welcome`", Roles},
	{"Action", "ticket actions: `POST /api/v1/tickets/{id}/{action}`", hall.Actions},
	{"WindowAction", "`POST /api/v1/windows/{n}/{state}`, websocket `windows.set` param `state`", []string{"open", "pause", "close"}},
	{"TicketStatus", "`ticket.status`", strs(hall.Waiting, hall.Called, hall.Serving, hall.Parked, hall.Done, hall.NoShow, hall.Cancelled, hall.Expired)},
	{"Channel", "`ticket.channel`", strs(hall.WalkIn, hall.Priority, hall.Remote, hall.BookingChannel)},
	{"AgeClass", "`ticket.age_class`", strs(hall.AgeMinor, hall.AgeAdult, hall.AgeElderly)},
	{"WindowStatus", "`window.status`", strs(hall.WindowOpen, hall.WindowPaused, hall.WindowClosed)},
	{"BookingStatus", "`booking.status`", []string{hall.BookingBooked, hall.BookingCheckedIn, hall.BookingCancelled}},
	{"NotIssuing", "`service.not_issuing`", []string{string(hall.ReasonClosed), string(hall.ReasonLunch), string(hall.ReasonIssuingStopped), "quota", string(hall.ReasonDayClosed), string(hall.ReasonHoliday), string(hall.ReasonClosure), string(hall.ReasonBookingOnly)}},
	{"EventType", "`event.type`", []string{
		hall.EvTicketIssued, hall.EvTicketCalled, hall.EvTicketRecalled, hall.EvTicketStarted, hall.EvTicketCompleted,
		hall.EvTicketNoShow, hall.EvTicketRequeued, hall.EvTicketTransferred, hall.EvTicketParked, hall.EvTicketResumed,
		hall.EvTicketCancelled, hall.EvTicketRated, hall.EvTicketPrintFailed, hall.EvTicketExpired, hall.EvTicketCarried,
		hall.EvWindowOpened, hall.EvWindowPaused, hall.EvWindowClosed, hall.EvDayClosed, hall.EvLeaseGranted,
		hall.EvLeaseReleased, hall.EvBooking, hall.EvBlacklist, hall.EvConfigChanged,
		hall.EvTicketPostponed, hall.EvHelpCalled, hall.EvHelpAcked,
		hall.EvMatterAdded, hall.EvMatterRemoved, hall.EvMatterOutcome, hall.EvCatalogReceived}},
	{"Outcome", "`ticket.matters[].outcome`", strs(hall.Outcomes...)},
	{"RatingChannel", "`rating.channel`", strs(hall.RatingChannels...)},
	{"Indicator", "`rating.indicators[]`, `matters.list` `indicators`", strs(hall.Indicators...)},
	{"OnlineRatingStatus", "the central's `GET /api/v1/ratings/{ticket}` `status` (docs/central.md)", strs(hall.OnlineStatuses...)},
	{"OnlineRatingReason", "the central's `POST /api/v1/ratings/{ticket}` `error.reason` (docs/central.md)", hall.OnlineRefusals},
	{"FrameType", "websocket frame `type`", FrameTypes},
	{"Op", "websocket request `op` (the routes' `x-operation`)", Ops},
	{"ReaderState", "`devices[].reader`", []string{DeviceOK, DeviceAbsent, DeviceError}},
	{"PrinterState", "`devices[].printer`", []string{DeviceOK, PrinterPaperLow, PrinterPaperOut, PrinterCover, PrinterOffline, DeviceAbsent}},
	{"ScannerState", "`devices[].scanner`", []string{DeviceOK, DeviceAbsent}},
}

// Group returns the group with that name.
func Group(name string) (CodeGroup, bool) {
	for _, g := range CodeGroups {
		if g.Name == name {
			return g, true
		}
	}
	return CodeGroup{}, false
}

// jsName turns a code into its JS key: "no-show" → "NoShow",
// "ticket.no_show" → "TicketNoShow".
func jsName(v string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// CodesJS is the pages' module of codes (ui/web/static/assets/js/codes.js).
func CodesJS() []byte {
	return ModuleJS("wire.CodeGroups", "The codes the hall server speaks, one spelling each (docs/protocol.md, \"Codes\").", CodeGroups)
}

// JSName is the key a code has in a generated module: "no-show" →
// "NoShow", "slot_full" → "SlotFull".
func JSName(v string) string { return jsName(v) }

// ModuleJS is a JS module of frozen objects, one per group, generated by
// go generate ./queue-server/wire from source (the Go name of the groups);
// about says whose codes they are. The platform's pages read their own
// module (the booking reasons, hallq/central/booking) made the same way.
func ModuleJS(source, about string, groups []CodeGroup) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by go generate ./queue-server/wire from " + source + "; DO NOT EDIT.\n")
	b.WriteString("// " + about + "\n")
	b.WriteString("// Pages name codes through these constants; a Go test fails when a page's JS\n// names a code the server does not know.\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "\n// %s: %s\nexport const %s = Object.freeze({\n", g.Name, strings.ReplaceAll(g.Where, "`", ""), g.Name)
		for _, v := range g.Values {
			fmt.Fprintf(&b, "  %s: '%s',\n", jsName(v), v)
		}
		b.WriteString("});\n")
	}
	return b.Bytes()
}

// Markers around the generated part of docs/protocol.md.
const (
	DocBegin = "<!-- codes: generated by go generate ./queue-server/wire; do not edit -->\n"
	DocEnd   = "<!-- end of codes -->\n"
)

// CodesMarkdown is the generated table of docs/protocol.md ("Codes").
func CodesMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString(DocBegin)
	b.WriteString("| group (JS: `codes.js`) | where | values |\n|---|---|---|\n")
	for _, g := range CodeGroups {
		vs := make([]string, len(g.Values))
		for i, v := range g.Values {
			vs[i] = "`" + v + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", g.Name, g.Where, strings.Join(vs, ", "))
	}
	b.WriteString(DocEnd)
	return b.Bytes()
}

// SpliceDoc replaces the generated part of a document (between DocBegin
// and DocEnd) with CodesMarkdown; ok is false when the markers are missing.
func SpliceDoc(doc []byte) (out []byte, ok bool) {
	i := bytes.Index(doc, []byte(DocBegin))
	j := bytes.Index(doc, []byte(DocEnd))
	if i < 0 || j < i {
		return doc, false
	}
	return bytes.Join([][]byte{doc[:i], CodesMarkdown(), doc[j+len(DocEnd):]}, nil), true
}
