package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"hallq/kiosk/outbox"
)

// Kiosk is a whole kiosk without its screens: outbox, link to the server,
// devices and the citizen flow.
type Kiosk struct {
	Core    *Core
	Flow    *Flow
	devices *Devices
	cfg     Config
}

// Open opens a kiosk from its configuration. show receives every view (from
// the flow's goroutine).
func Open(cfg Config, version string, log *slog.Logger, show func(View)) (*Kiosk, error) {
	out, err := outbox.Open(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("kiosk outbox in %s: %w", cfg.DataDir, err)
	}
	devs, err := OpenDevices(cfg.Devices)
	if err != nil {
		out.Close()
		return nil, err
	}
	core, err := NewCore(CoreConfig{Server: cfg.Server, Token: cfg.Token, LeaseSize: cfg.LeaseSize, TimeZone: cfg.TimeZone,
		CAPEM: cfg.caPEM, Transport: cfg.Transport, StatusURL: cfg.StatusURL, Logger: log}, out)
	if err != nil {
		devs.Close()
		out.Close()
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	reader, printer, scanner := devs.Parts()
	flow := NewFlow(core, reader, printer, scanner, FlowConfig{ElderlyAge: cfg.ElderlyAge, Idle: cfg.IdleTimeout(),
		Footer: cfg.Footer, Version: version, AdminPIN: cfg.AdminPIN, Language: cfg.Language, Voice: cfg.Speaker}, show)
	return &Kiosk{Core: core, Flow: flow, devices: devs, cfg: cfg}, nil
}

// Run runs the kiosk until ctx ends.
func (k *Kiosk) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); k.Core.Run(ctx, k.Flow.Refresh) }()
	go func() { defer wg.Done(); k.Flow.Run(ctx) }()
	wg.Wait()
}

// Close releases the devices and the outbox.
func (k *Kiosk) Close() error {
	k.devices.Close()
	return k.Core.out.Close()
}
