package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"hallq/queue-server/wire"
)

// A request frame is built by hand; it must be the bytes json.Marshal
// makes of the same wire.Frame.
func TestRequestFrameIsTheFrameMarshalled(t *testing.T) {
	body := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	cases := []wire.Frame{
		{Type: wire.FrameRequest, ID: "1", Op: "me"},
		{Type: wire.FrameRequest, ID: "2", Op: "tickets.issue", Idem: "k-2", Body: body(map[string]any{"service": "E", "age_class": "elderly"})},
		{Type: wire.FrameRequest, ID: "3", Op: "windows.call", Params: map[string]string{"n": "5", "z": "<&>", "a": "号\u2028\"\\"}, Body: body(map[string]string{"ticket": "x</script>"})},
		{Type: wire.FrameRequest, Op: "", Idem: "带\n引号\""},
		{Type: wire.FrameRequest, ID: "4", Op: "x", Params: map[string]string{}},
		{Type: wire.FrameRequest, ID: "a<b>&\x7f", Op: "tickets.issue", Idem: "lg-1f-k0-12 ~!#$%'()*+,-./:;=?@[]^_`{|}", Body: body(map[string]string{"service": "E"})},
		{Type: wire.FrameRequest, ID: "\u2028\t", Op: "op\\", Idem: "\x00"},
	}
	for _, f := range cases {
		want, _ := json.Marshal(f)
		if got := requestFrame(f.ID, f.Op, f.Params, f.Idem, f.Body); string(got) != string(want) {
			t.Errorf("request frame\n got %s\nwant %s", got, want)
		}
	}
}

// The reader decodes every frame from one reused buffer: a reply's result
// stays whole while the frames after it are read.
func TestReplyResultSurvivesTheFramesAfterIt(t *testing.T) {
	big := strings.Repeat("B", 100<<10) // past the kept buffer, too
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		var hello wire.Frame
		if ws.ReadJSON(&hello) != nil {
			return
		}
		ws.WriteJSON(wire.Frame{Type: wire.FrameWelcome, Role: wire.RoleKiosk})
		for {
			var req wire.Frame
			if ws.ReadJSON(&req) != nil {
				return
			}
			res, _ := json.Marshal(map[string]string{"number": "A" + req.ID + strings.Repeat("a", 3000)})
			ws.WriteJSON(wire.Frame{Type: wire.FrameReply, ID: req.ID, Status: 201, Result: res})
			for i := range 5 {
				ws.WriteJSON(wire.Frame{Type: wire.FrameServices, ID: strings.Repeat("C", 10*i), Op: big[:min(len(big), 1000<<(2*i))]})
			}
		}
	}))
	defer srv.Close()
	cn, err := New(srv.URL, "t").Dial(context.Background(), 0, func(wire.Frame) {})
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	for i := range 20 {
		var out struct{ Number string }
		if _, err := cn.Request(context.Background(), "tickets.issue", nil, "", map[string]string{"service": "A"}, &out); err != nil {
			t.Fatal(err)
		}
		if want := "A" + itoa(i+1) + strings.Repeat("a", 3000); out.Number != want {
			t.Fatalf("request %d: result %.20q…, want %.20q…", i+1, out.Number, want)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// decodeFrame takes a reply in the server's own form apart by position;
// whatever it takes must be what json.Unmarshal makes of the same bytes,
// and every other form must go to json.Unmarshal.
func TestDecodeFrameIsUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		frame string
		fast  bool
	}{
		{`{"type":"reply","id":"17","status":201,"result":{"id":"k8o","number":"A001","name":{"zh":"户籍","en":"Hukou"},"q":"}\"]"}}`, true},
		{`{"type":"reply","id":"2","status":200,"result":[{"a":1},{"b":[2,3]}]}`, true},
		{`{"type":"reply","id":"2","status":200,"result":[]}`, true},
		{`{"type":"reply","id":"3","status":200,"result":{"a":1},"error":{"code":"internal"}}`, false}, // more after the result
		{`{"type":"reply","id":"3","status":200,"result":1}`, false},                                   // not an object or array
		{`{"type":"reply","id":"3","status":200,"result":"s"}`, false},
		{`{"type":"reply","id":"a\"b","status":200,"result":{}}`, false}, // an escape in the id
		{`{"type":"reply","id":"号","status":200,"result":{}}`, false},    // non-ASCII
		{`{"type":"reply","id":"4","status":0200,"result":{}}`, false},   // not JSON
		{`{"type":"reply","id":"4","status":2000,"result":{}}`, false},   // no such status
		{`{"type":"reply","id":"5","status":204}`, false},                // no result
		{`{"type":"reply","id":"6","status":404,"error":{"code":"not_found","message":"no such ticket"}}`, false},
		{`{"type":"reply", "id":"7","status":200,"result":{}}`, false},
		{`{"type":"reply","id":"8","status":200,"result":{"a":"\\"}}`, true},
		{`{"type":"services","services":[{"code":"A","waiting":3}]}`, false},
	} {
		var fast, slow wire.Frame
		if got := fastReply([]byte(tc.frame), &fast); got != tc.fast {
			t.Errorf("%s: taken apart by position %v, want %v", tc.frame, got, tc.fast)
		}
		errSlow := json.Unmarshal([]byte(tc.frame), &slow)
		fast = wire.Frame{}
		errFast := decodeFrame([]byte(tc.frame), &fast)
		if (errFast == nil) != (errSlow == nil) || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s:\n decodeFrame %+v (%v)\n  Unmarshal %+v (%v)", tc.frame, fast, errFast, slow, errSlow)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte(`{"type":"reply","id":"17","status":201,"result":{"number":"A001","x":[1,{"y":"]"}]}}`))
	f.Add([]byte(`{"type":"reply","id":"3","status":200,"result":{"a":1},"error":{"code":"internal"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // the server sends JSON; a result that is not is its decoder's to refuse
		}
		var fast, slow wire.Frame
		if !fastReply(b, &fast) {
			return
		}
		if err := json.Unmarshal(b, &slow); err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s:\n by position %+v\n  Unmarshal %+v (%v)", b, fast, slow, err)
		}
	})
}
