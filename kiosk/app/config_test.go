package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigNamesEveryMistake(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "kiosk.json")
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	good := `{"server":"http://127.0.0.1:8080","token":"hq_x","data_dir":"/tmp/k","devices":{"reader":"/dev/ttyUSB0","printer_model":"generic-58"},"admin_pin":"2468"}`
	c, err := LoadConfig(write(good))
	if err != nil || c.Language != "zh" || !c.IsFullscreen() {
		t.Fatalf("good config: %v %+v", err, c)
	}
	for body, key := range map[string]string{
		`{"server":"ftp://x","token":"t","data_dir":"d"}`:                                     "server",
		`{"server":"http://h:1","data_dir":"d"}`:                                              "token",
		`{"server":"http://h:1","token":"t"}`:                                                 "data_dir",
		`{"server":"http://h:1","token":"t","data_dir":"d","admin_pin":"12a4"}`:               "admin_pin",
		`{"server":"http://h:1","token":"t","data_dir":"d","language":"fr"}`:                  "language",
		`{"server":"http://h:1","token":"t","data_dir":"d","idle":"1s"}`:                      "idle",
		`{"server":"http://h:1","token":"t","data_dir":"d","devices":{"printer_model":"hp"}}`: "devices.printer_model",
		`{"server":"http://h:1","token":"t","data_dir":"d","colour":"red"}`:                   "colour",
		`{"server":"http://h:1","token":"t","data_dir":"d","devices":{"reader_baud":9601}}`:   "devices.reader_baud",
		`{"server":"http://h:1","token":"t","data_dir":"d","devices":{"printer_baud":-1}}`:    "devices.printer_baud",
		`{"server":"http://h:1","token":"t","data_dir":"d","time_zone":"Mars/Olympus"}`:       "time_zone",
		`{"server":"http://h:1","token":"t","data_dir":"d","devices":{"reply_time":"soon"}}`:  "devices.reply_time",
		`{"server":"http://h:1","token":"t","data_dir":"d","devices":{"reply_time":"1ms"}}`:   "devices.reply_time",
		`{"server":"http://h:1","token":"t","data_dir":"d","devices":{"reply_time":"1m"}}`:    "devices.reply_time",
	} {
		_, err := LoadConfig(write(body))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: got %v, want an error naming %q", body, err, key)
		}
	}
}
