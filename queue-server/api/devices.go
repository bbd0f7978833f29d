package api

// Devices: the kiosks' reports of their printers, readers and scanners.

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"hallq/queue-server/wire"
)

func opDeviceReport(c *call) (int, any, error) {
	var d wire.DeviceHealth
	if err := c.decode(&d, false); err != nil {
		return 0, nil, err
	}
	d.Kiosk, d.ReportedAt = c.p.Name, time.Now()
	c.a.devices.report(d)
	return ok(d, nil)
}

func opDevices(c *call) (int, any, error) { return ok(c.a.devices.list(), nil) }

// deviceReports holds each kiosk's last device report (printer, reader,
// scanner), for the devices list and the alerts. Safe for concurrent use:
// its mutex guards the map.
type deviceReports struct {
	mu   sync.Mutex
	last map[string]wire.DeviceHealth // by kiosk name
}

func newDeviceReports() *deviceReports {
	return &deviceReports{last: map[string]wire.DeviceHealth{}}
}

// report keeps d as its kiosk's last report.
func (r *deviceReports) report(d wire.DeviceHealth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last[d.Kiosk] = d
}

// list returns the last report of every kiosk, by kiosk name.
func (r *deviceReports) list() []wire.DeviceHealth {
	r.mu.Lock()
	out := slices.Collect(maps.Values(r.last))
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b wire.DeviceHealth) int { return strings.Compare(a.Kiosk, b.Kiosk) })
	return out
}
