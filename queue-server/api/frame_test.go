package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hallq/queue-server/wire"
)

// The writer frames messages itself; the websocket library on the other
// end must read them back exactly, at every length encoding, and several
// frames written in one go must arrive as separate messages in order.
func TestFramesReadByTheLibrary(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 70000}
	payload := func(n int) []byte { return bytes.Repeat([]byte{'a' + byte(n%26)}, n) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		var frames [][]byte
		for _, n := range sizes {
			frames = append(frames, textFrame(payload(n)))
		}
		conn.NetConn().Write(slices.Concat(frames...)) // all in one write
		conn.NetConn().Write(pingFrame)
		conn.ReadMessage() // until the client goes
	}))
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, n := range sizes {
		typ, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("message of %d bytes: %v", n, err)
		}
		if typ != websocket.TextMessage || !bytes.Equal(got, payload(n)) {
			t.Fatalf("message of %d bytes: got type %d, %d bytes", n, typ, len(got))
		}
	}
	pinged := make(chan struct{})
	ws.SetPingHandler(func(string) error { close(pinged); return nil })
	go ws.ReadMessage()
	select {
	case <-pinged:
	case <-time.After(10 * time.Second):
		t.Fatal("the ping frame was not read as a ping")
	}
}

// A reply framed straight from its parts is byte for byte the frame of
// its JSON encoding, at every header length; replies with an error or
// with other fields take the encoder.
func TestReplyFrameIsTheEncodedFrame(t *testing.T) {
	big, _ := json.Marshal(map[string]string{"x": strings.Repeat("号", 30000)})
	for _, f := range []wire.Frame{
		{Type: wire.FrameReply, ID: "7", Status: 201, Result: json.RawMessage(`{"id":"T-1","number":"A001"}`)},
		{Type: wire.FrameReply, ID: `a"<b>&\u2028`, Status: 200},
		{Type: wire.FrameReply},
		{Type: wire.FrameReply, ID: "1", Status: 200, Result: json.RawMessage(`[]`)},
		{Type: wire.FrameReply, ID: "2", Status: 200, Result: json.RawMessage(`"` + strings.Repeat("a", 200) + `"`)},
		{Type: wire.FrameReply, ID: "3", Status: 200, Result: big},
		{Type: wire.FrameReply, ID: "4", Status: 409, Error: &wire.Error{Code: "conflict", Message: "no"}},
		{Type: wire.FrameReply, ID: "5", Status: 200, Op: "me"},
		{Type: wire.FrameError, Error: &wire.Error{Code: "invalid", Message: "bad"}},
	} {
		b, _ := json.Marshal(f)
		if got, want := replyFrame(f), textFrame(b); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", b[:min(len(b), 80)], got[:min(len(got), 90)], want[:min(len(want), 90)])
		}
	}
}
