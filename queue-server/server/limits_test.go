package server

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestSystemdFileLimitFitsTheCaps: the unit's file limit leaves room above
// the server's connection cap for the store, the journal and the forwarder
// (a limit of 512 once let one client lock out a kiosk).
func TestSystemdFileLimitFitsTheCaps(t *testing.T) {
	f, err := os.Open("../../deploy/systemd/hallq-queue-server.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	limit := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "LimitNOFILE="); ok {
			if limit, err = strconv.Atoi(v); err != nil {
				t.Fatalf("LimitNOFILE=%s", v)
			}
		}
	}
	if limit < DefaultLimits.Conns+1024 {
		t.Errorf("LimitNOFILE=%d leaves no room above the %d connections the server accepts", limit, DefaultLimits.Conns)
	}
	if DefaultLimits.ConnsPerAddr*8 > DefaultLimits.Conns {
		t.Errorf("eight client addresses at the per-address cap (%d) would fill the whole cap (%d)", DefaultLimits.ConnsPerAddr, DefaultLimits.Conns)
	}
}
