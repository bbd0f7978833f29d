package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
