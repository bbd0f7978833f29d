package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is a kiosk's configuration file (JSON). docs/kiosk.md lists every
// key with its default.
type Config struct {
	Server     string       `json:"server"`     // the hall server, http(s)://host:port
	Token      string       `json:"token"`      // a kiosk token (or token_file)
	TokenFile  string       `json:"token_file"` // file holding the token
	DataDir    string       `json:"data_dir"`   // the local outbox lives here
	Devices    DeviceConfig `json:"devices"`
	AdminPIN   string       `json:"admin_pin"`   // opens the staff service screen
	ElderlyAge int          `json:"elderly_age"` // until the server's rules.elderly_age is known; default 70
	LeaseSize  int          `json:"lease_size"`  // offline numbers per service, default 20
	Language   string       `json:"language"`    // zh (default) or en
	Fullscreen *bool        `json:"fullscreen"`  // default true
	Idle       string       `json:"idle"`        // back home after this, default 30s
	Footer     string       `json:"footer"`      // last line of printed tickets
	TimeZone   string       `json:"time_zone"`   // the hall's, default Asia/Shanghai
	CAFile     string       `json:"ca_file"`     // the hall CA (PEM): the server's certificate must chain to it
	Transport  string       `json:"transport"`   // tls (default: HTTP or TLS as server says) or tlcp (国密: server is the hall's -tlcp-addr, ca_file its SM2 CA)
	StatusURL  string       `json:"status_url"`  // base of the ticket's status link (QR code); default server + "/t/"
	Voice      string       `json:"voice"`       // spoken prompts: auto (default: espeak-ng when installed), espeak-ng, off

	// Speaker speaks the prompts (set by the kiosk's window from Voice).
	Speaker Voice `json:"-"`

	caPEM []byte // read from CAFile by LoadConfig
}

// LoadConfig reads and validates a kiosk configuration file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if c.Token == "" && c.TokenFile != "" {
		t, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return Config{}, fmt.Errorf("%s: token_file: %w", path, err)
		}
		c.Token = strings.TrimSpace(string(t))
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return Config{}, fmt.Errorf("%s: ca_file: %w", path, err)
		}
		c.caPEM = pem
	}
	return c, nil
}

// Enrollment is what `deploy/enroll-kiosk.sh` (or a manager) hands a new
// kiosk: where the hall server is, the kiosk's token, and the hall CA.
type Enrollment struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	CAPEM  string `json:"ca_pem,omitempty"`
}

// Enroll writes a kiosk's configuration from an enrolment file: the token
// and the CA go into files beside the configuration (mode 0640: readable by
// the kiosk account's group, never by others), and an existing
// configuration keeps its other settings (devices, PIN, …).
func Enroll(enrollPath, configPath string) error {
	b, err := os.ReadFile(enrollPath)
	if err != nil {
		return err
	}
	var e Enrollment
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return fmt.Errorf("%s: %w", enrollPath, err)
	}
	if e.Server == "" || e.Token == "" {
		return fmt.Errorf("%s: server and token are required", enrollPath)
	}
	c := Config{DataDir: "/var/lib/hallq-kiosk"}
	if old, err := os.ReadFile(configPath); err == nil {
		if err := json.Unmarshal(old, &c); err != nil {
			return fmt.Errorf("%s: %w", configPath, err)
		}
	}
	dir := filepath.Dir(configPath)
	c.Server, c.Token, c.TokenFile = e.Server, "", filepath.Join(dir, "kiosk-token")
	if err := os.WriteFile(c.TokenFile, []byte(e.Token+"\n"), 0o640); err != nil {
		return err
	}
	if e.CAPEM != "" {
		c.CAFile = filepath.Join(dir, "kiosk-ca.pem")
		if err := os.WriteFile(c.CAFile, []byte(e.CAPEM), 0o640); err != nil {
			return err
		}
	}
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(configPath, append(out, '\n'), 0o640); err != nil {
		return err
	}
	_, err = LoadConfig(configPath) // what the kiosk will read must be valid
	return err
}

// The kiosk's transports to the hall server (Config.Transport).
const (
	TransportTLS  = "tls"  // HTTP, or TLS for an https:// server
	TransportTLCP = "tlcp" // TLCP (GB/T 38636), the 国密 transport
)

// Validate names every mistake by its key, and fills defaults.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if u, err := url.Parse(c.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("server", "want http(s)://host:port, got %q", c.Server)
	}
	if c.Token == "" {
		bad("token", "missing (or set token_file)")
	}
	switch c.Transport {
	case "":
		c.Transport = TransportTLS
	case TransportTLS:
	case TransportTLCP:
		if !strings.HasPrefix(c.Server, "https://") {
			bad("transport", "tlcp needs server https://host:port (the hall's -tlcp-addr), got %q", c.Server)
		}
		if c.CAFile == "" {
			bad("transport", "tlcp needs ca_file, the hall's SM2 CA (hallq-ca init -sm2)")
		}
	default:
		bad("transport", "tls or tlcp, got %q", c.Transport)
	}
	if c.StatusURL != "" {
		if u, err := url.Parse(c.StatusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("status_url", "want http(s)://host:port/t/, got %q", c.StatusURL)
		}
	}
	if c.DataDir == "" {
		bad("data_dir", "missing")
	}
	if c.AdminPIN != "" && (len(c.AdminPIN) < 4 || strings.Trim(c.AdminPIN, "0123456789") != "") {
		bad("admin_pin", "must be at least 4 digits")
	}
	if c.ElderlyAge < 0 || c.ElderlyAge > 130 {
		bad("elderly_age", "must be 0 to 130")
	}
	if c.LeaseSize < 0 || c.LeaseSize > 100 {
		bad("lease_size", "must be 0 to 100")
	}
	switch c.Language {
	case "":
		c.Language = "zh"
	case "zh", "en":
	default:
		bad("language", "zh or en, got %q", c.Language)
	}
	switch c.Voice {
	case "":
		c.Voice = "auto"
	case "auto", "espeak-ng", "off":
	default:
		bad("voice", "auto, espeak-ng or off, got %q", c.Voice)
	}
	if c.Idle != "" {
		if d, err := time.ParseDuration(c.Idle); err != nil || d < 5*time.Second {
			bad("idle", "a duration of at least 5s, got %q", c.Idle)
		}
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			bad("time_zone", "unknown time zone %q", c.TimeZone)
		}
	}
	if !validReplyTime(c.Devices.ReplyTime) {
		bad("devices.reply_time", "a duration from 50ms to 10s, got %q", c.Devices.ReplyTime)
	}
	if c.Devices.PrinterModel != "" && !validModel(c.Devices.PrinterModel) {
		bad("devices.printer_model", "unknown model %q", c.Devices.PrinterModel)
	}
	for _, b := range []struct {
		key  string
		baud int
	}{{"devices.reader_baud", c.Devices.ReaderBaud}, {"devices.printer_baud", c.Devices.PrinterBaud}, {"devices.scanner_baud", c.Devices.ScannerBaud}} {
		if !ValidBaud(b.baud) {
			bad(b.key, "a serial line rate (9600, 19200, 38400, 57600, 115200, …), got %d", b.baud)
		}
	}
	return errors.Join(errs...)
}

// IdleTimeout returns the configured idle timeout (default 30 s).
func (c Config) IdleTimeout() time.Duration {
	d, err := time.ParseDuration(c.Idle)
	if err != nil {
		return 30 * time.Second
	}
	return d
}

// IsFullscreen reports whether the kiosk runs fullscreen (default yes).
func (c Config) IsFullscreen() bool { return c.Fullscreen == nil || *c.Fullscreen }
