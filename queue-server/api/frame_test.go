package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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
