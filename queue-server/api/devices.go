package api

// Devices: the kiosks' reports of their printers, readers and scanners.

import (
	"time"

	"hallq/queue-server/wire"
)

// deviceOps are the operations on device reports (see ops.go).
var deviceOps = []*operation{
	{name: "devices.report", route: "POST /api/v1/devices", roles: []string{wire.RoleKiosk}, run: opDeviceReport},
	{name: "devices.list", route: "GET /api/v1/devices", roles: staff, run: opDevices},
}

func opDeviceReport(c *call) (int, any, error) {
	var d wire.DeviceHealth
	if err := c.decode(&d, false); err != nil {
		return 0, nil, err
	}
	d.Kiosk, d.ReportedAt = c.p.Name, time.Now()
	c.a.hub.reportDevice(d)
	return ok(d, nil)
}

func opDevices(c *call) (int, any, error) { return ok(c.a.hub.devices(), nil) }
