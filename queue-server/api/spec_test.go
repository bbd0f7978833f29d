package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hallq/queue-server/api"
	"hallq/queue-server/api/apispec"
	"hallq/queue-server/wire"
)

// specClient is the HTTP client of the contract tests: every exchange is
// validated against the OpenAPI document.
func specClient(t *testing.T) *http.Client { return apispec.Client(t) }

// samples fill a route's path parameters for TestEveryRouteIsInTheSpec.
var samples = map[string][]string{
	"id": {"k8odl0f33e0unt5ov5ngmsr2"}, "window": {"1"}, "first": {"1"},
	"action": {"recall", "start", "complete", "no-show", "requeue", "transfer", "park", "resume", "cancel", "rate", "print-failed", "add-matter", "remove-matter", "outcome"},
	"state":  {"open", "pause", "close"},
	"ref":    {"0123456789ab"}, "name": {"wang"},
}

// Every route the server serves is in the OpenAPI document (with every
// value of its enumerated parameters), and every operation of the
// document is served: a route added without the document fails here.
func TestEveryRouteIsInTheSpec(t *testing.T) {
	doc, _, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{([a-z]+)\}`)
	served := map[string]bool{}
	for _, rt := range api.Routes() {
		method, pattern, _ := strings.Cut(rt, " ")
		paths := []string{pattern}
		for _, m := range param.FindAllStringSubmatch(pattern, -1) {
			vals, ok := samples[m[1]]
			if !ok {
				t.Fatalf("route %s: no sample for {%s}", rt, m[1])
			}
			var next []string
			for _, p := range paths {
				for _, v := range vals {
					next = append(next, strings.Replace(p, m[0], v, 1))
				}
			}
			paths = next
		}
		for _, p := range paths {
			req, _ := http.NewRequest(method, "http://hall"+p, nil)
			route, _, err := apispec.Find(req)
			if err != nil {
				t.Errorf("%s %s (route %s) is not in the OpenAPI document: %v", method, p, rt, err)
				continue
			}
			served[strings.ToUpper(route.Method)+" "+route.Path] = true
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("the OpenAPI document has %s %s, which the server does not serve", method, path)
			}
		}
	}
}

// The document the server serves is the one in the repository.
func TestSpecIsServed(t *testing.T) {
	h := mustContractHall(t)
	st, body := h.do(h.client(""), "GET", "/api/v1/openapi.json", "", "")
	if st != 200 || body != string(api.OpenAPI()) {
		t.Fatalf("GET /api/v1/openapi.json: %d, %d bytes", st, len(body))
	}
}

// The document's enumerations are the shared codes (wire.CodeGroups), and
// its operations are the operation table: one vocabulary, not two copies
// that drift.
func TestSpecSpeaksTheSharedCodes(t *testing.T) {
	doc, _, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	prop := func(schema, field string) []string {
		s := doc.Components.Schemas[schema].Value
		if field != "" {
			s = s.Properties[field].Value
		}
		var out []string
		for _, v := range s.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	errCodes := doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value
	var codes []string
	for _, v := range errCodes.Enum {
		codes = append(codes, v.(string))
	}
	var actions []string
	for _, p := range doc.Paths.Value("/api/v1/tickets/{id}/{action}").Post.Parameters {
		if p.Value.Name == "action" {
			for _, v := range p.Value.Schema.Value.Enum {
				actions = append(actions, v.(string))
			}
		}
	}
	for _, c := range []struct {
		where string
		got   []string
		group string
	}{
		{"Ticket.status", prop("Ticket", "status"), "TicketStatus"},
		{"Ticket.channel", prop("Ticket", "channel"), "Channel"},
		{"Ticket.age_class", prop("Ticket", "age_class"), "AgeClass"},
		{"Window.status", prop("Window", "status"), "WindowStatus"},
		{"Event.type", prop("Event", "type"), "EventType"},
		{"Booking.status", prop("Booking", "status"), "BookingStatus"},
		{"ServiceView.not_issuing", prop("ServiceView", "not_issuing"), "NotIssuing"},
		{"Token.role", prop("Token", "role"), "Role"},
		{"DeviceHealth.reader", prop("DeviceHealth", "reader"), "ReaderState"},
		{"DeviceHealth.printer", prop("DeviceHealth", "printer"), "PrinterState"},
		{"DeviceHealth.scanner", prop("DeviceHealth", "scanner"), "ScannerState"},
		{"Error.code", codes, "ErrorCode"},
		{"tickets/{id}/{action}", actions, "Action"},
	} {
		g, _ := wire.Group(c.group)
		a, b := slices.Clone(c.got), slices.Clone(g.Values)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("the document's %s is %v; the shared codes (%s) are %v", c.where, c.got, c.group, g.Values)
		}
	}
	specOps := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, o := range item.Operations() {
			if name, ok := o.Extensions["x-operation"].(string); ok {
				specOps[name] = true
			}
		}
	}
	for name := range api.OpRoles() {
		if !specOps[name] {
			t.Errorf("operation %s has no x-operation in the document", name)
		}
		if newName, old := wire.DeprecatedOps[name]; old {
			if !slices.Contains(wire.Ops, newName) {
				t.Errorf("deprecated operation %s names %s, which is not in wire.Ops", name, newName)
			}
		} else if !slices.Contains(wire.Ops, name) {
			t.Errorf("operation %s is not in wire.Ops (the shared codes)", name)
		}
	}
	if len(wire.Ops)+len(wire.DeprecatedOps) != len(api.OpRoles()) {
		t.Errorf("wire.Ops has %d operations and %d deprecated names, the table %d", len(wire.Ops), len(wire.DeprecatedOps), len(api.OpRoles()))
	}
}

// The frame check rejects what the document does not allow.
func TestFrameSchemasRejectDrift(t *testing.T) {
	for _, good := range []string{
		`{"type":"welcome","role":"display","name":"board-1","seq":0}`,
		`{"type":"reply","id":"7","status":409,"error":{"code":"conflict","reason":"window_busy","message":"…"}}`,
		`{"type":"error","status":400,"error":{"code":"invalid","message":"expected a request frame: …"}}`,
	} {
		if err := apispec.ValidateFrame([]byte(good)); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, bad := range []string{
		`{"type":"welcome","role":"display","name":"board-1"}`,                        // no seq
		`{"type":"reply","id":"7"}`,                                                   // no status
		`{"type":"reply","id":"7","status":404,"error":{"code":"nope","message":""}}`, // unknown code
		`{"type":"gossip"}`,
	} {
		if err := apispec.ValidateFrame([]byte(bad)); err == nil {
			t.Errorf("%s passed", bad)
		}
	}
}
