package notify_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/notify"
	"hallq/central/oidcdev"
	"hallq/central/platform"
)

// Tencent Cloud's published example of TC3-HMAC-SHA256 ("签名方法 v3":
// CVM DescribeInstances at 1551113065 with the documented sample keys)
// signs to the documented signature.
func TestTC3MatchesTencentsPublishedExample(t *testing.T) {
	payload := `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	got := notify.TC3Authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******", "cvm", "POST", "/", "",
		[][2]string{{"content-type", "application/json; charset=utf-8"}, {"host", "cvm.tencentcloudapi.com"}}, []byte(payload), 1551113065)
	want := "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Every bad request is refused precisely and changes nothing; the phone
// number is masked in every reply.
func TestAPIRefusals(t *testing.T) {
	w := mustWorld(t, nil)
	c := w.Citizen(1)
	sub := w.Push.Subscribe("citizen-1")
	w.MustRefuse(401, notify.ReasonNoToken, "GET", "/api/v1/notifications", "", nil)
	staff := w.IDP.Mint(oidcdev.Token{Subject: "admin", Audience: clientID, Role: platform.RoleProvinceAdmin})
	w.MustRefuse(403, notify.ReasonNotCitizen, "GET", "/api/v1/notifications", staff, nil)
	w.MustRefuse(400, notify.ReasonBadField, "PUT", "/api/v1/notifications/push", c, notify.PushRequest{Subscription: sub, Kinds: []notify.Kind{"everything"}})
	bad := sub
	bad.Endpoint = strings.Replace(sub.Endpoint, "https:", "http:", 1)
	w.MustRefuse(400, notify.ReasonBadField, "PUT", "/api/v1/notifications/push", c, notify.PushRequest{Subscription: bad, Kinds: notify.Kinds})
	bad = sub
	bad.Keys.Auth = "c2hvcnQ"
	w.MustRefuse(400, notify.ReasonBadField, "PUT", "/api/v1/notifications/push", c, notify.PushRequest{Subscription: bad, Kinds: notify.Kinds})
	w.MustRefuse(400, notify.ReasonUnknownField, "PUT", "/api/v1/notifications/push", c, `{"subscription":{},"kinds":[],"colour":"red"}`)
	w.MustRefuse(400, notify.ReasonBadJSON, "PUT", "/api/v1/notifications/push", c, `{"kinds":`)
	w.MustRefuse(400, notify.ReasonBadField, "PUT", "/api/v1/notifications/push", c, notify.PushRequest{Subscription: sub, Kinds: notify.Kinds, Lang: "fr"})
	w.MustRefuse(400, notify.ReasonNoPhone, "PUT", "/api/v1/notifications/sms", c, notify.SMSRequest{Kinds: []notify.Kind{notify.Called}})
	for _, p := range []string{"12345", "23800138000", "1380013800a", "+1 415 555 0100"} {
		w.MustRefuse(400, notify.ReasonBadField, "PUT", "/api/v1/notifications/sms", c, notify.SMSRequest{Phone: p, Kinds: []notify.Kind{notify.Called}})
	}
	w.MustRefuse(404, notify.ReasonUnknownTicket, "PUT", "/api/v1/tickets/nope/notifications", "", notify.TicketRequest{Subscription: sub})
	w.MustRefuse(400, notify.ReasonBadField, "PUT", "/api/v1/tickets/nope/notifications", "", notify.TicketRequest{Subscription: sub, Kinds: []notify.Kind{notify.Confirmed}})
	var ch notify.Choices
	w.MustDo(200, "GET", "/api/v1/notifications", c, nil, &ch)
	if len(ch.Push)+len(ch.SMS)+ch.Devices != 0 || ch.Phone != "" {
		t.Fatalf("a refused request changed something: %+v", ch)
	}
	// The accepted ones, with the number as a citizen types it.
	st, body := w.Do("PUT", "/api/v1/notifications/sms", c, notify.SMSRequest{Phone: "+86 138-0013-8000", Kinds: []notify.Kind{notify.Called, notify.Called}})
	if st != http.StatusOK || strings.Contains(string(body), "13800138000") || !strings.Contains(string(body), `"phone":"+86 138****8000"`) || !strings.Contains(string(body), `"sms":["called"]`) {
		t.Fatalf("%d %s", st, body)
	}
	// Keep the number, change the kinds.
	w.MustDo(200, "PUT", "/api/v1/notifications/sms", c, notify.SMSRequest{Kinds: []notify.Kind{notify.Reminder}}, &ch)
	if ch.Phone != "+86 138****8000" || len(ch.SMS) != 1 {
		t.Fatalf("%+v", ch)
	}
	w.MustDo(200, "PUT", "/api/v1/notifications/push", c, notify.PushRequest{Subscription: sub, Kinds: []notify.Kind{notify.Called}}, &ch)
	if ch.Devices != 1 || !ch.ThisDevice {
		t.Fatalf("%+v", ch)
	}
	w.MustDo(200, "DELETE", "/api/v1/notifications/push", c, notify.EndpointRequest{Endpoint: sub.Endpoint}, &ch)
	if ch.Devices != 0 || len(ch.Push) != 0 {
		t.Fatalf("%+v", ch)
	}
	w.MustDo(200, "DELETE", "/api/v1/notifications/sms", c, nil, &ch)
	if ch.Phone != "" || len(ch.SMS) != 0 {
		t.Fatalf("%+v", ch)
	}
	var k struct {
		PublicKey string `json:"public_key"`
	}
	w.MustDo(200, "GET", "/api/v1/notifications/vapid-key", "", nil, &k)
	if len(k.PublicKey) != 87 {
		t.Fatalf("vapid key %q", k.PublicKey)
	}
}

// Without an SMS provider the platform says so instead of storing a
// number it would never use.
func TestNoSMSProvider(t *testing.T) {
	w := mustWorld(t, func(c *notify.Config) { c.SMS = nil })
	w.MustRefuse(409, notify.ReasonSMSOff, "PUT", "/api/v1/notifications/sms", w.Citizen(1), notify.SMSRequest{Phone: "13800138000", Kinds: []notify.Kind{notify.Called}})
	var ch notify.Choices
	w.MustDo(200, "GET", "/api/v1/notifications", w.Citizen(1), nil, &ch)
	if ch.SMSAvailable {
		t.Fatalf("%+v", ch)
	}
	_ = booking.Invalid
}

// A number given by a citizen with no booking or ticket open is deleted
// once PhoneRetention has passed; one that serves an open booking stays.
func TestAPhoneNumberNoLongerNeededIsDeleted(t *testing.T) {
	w := mustWorld(t, func(c *notify.Config) { c.PhoneRetention, c.SweepEvery = 300*time.Millisecond, 50*time.Millisecond })
	w.MustHall(sampleHall("h1"))
	// Citizen 2's booking is known open to the notifier before the number
	// is given: the retention is 300 ms of real time, and a booking that
	// reached the notifier later than that (a busy machine) found its
	// number already swept.
	bk := w.Book(2, "h1", "B", monday(10, 0))
	key, err := platform.CitizenKeyWith("", provinceKey, idNumber(2))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the notifier holds the booking open", func() bool {
		kv, err := w.P.JS.KeyValue(t.Context(), notify.SubsBucket)
		if err != nil {
			return false
		}
		e, err := kv.Get(t.Context(), "c."+key)
		var p notify.Prefs
		return err == nil && json.Unmarshal(e.Value(), &p) == nil && slices.Contains(p.Open, bk.ID)
	})
	w.OptIn(1, "13800138000", notify.Reminder)
	w.OptIn(2, "13900139000", notify.Reminder)
	eventually(t, "the unneeded number is deleted", func() bool { return w.choices(1).Phone == "" })
	time.Sleep(400 * time.Millisecond) // past the retention: the sweep has looked at the other number too
	if ch := w.choices(2); ch.Phone != "+86 139****9000" {
		t.Fatalf("a number serving an open booking was deleted: %+v", ch)
	}
}
