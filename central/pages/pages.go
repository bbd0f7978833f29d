// Package pages serves the platform's web faces from a central process:
// the citizen portal (hallq/ui/portal: its pages, /p/ and the hall pages'
// shared /assets/) and the province dashboard (hallq/ui/province, under
// /province/), beside the API on the same listener. It only wires.
package pages

import (
	"context"
	"flag"
	"log/slog"

	"hallq/central/platform"
	"hallq/ui/portal"
	"hallq/ui/province"
)

// Extension mounts the pages on the process's API server.
func Extension() platform.Extension { return ext{} }

type ext struct{}

func (ext) Flags(*flag.FlagSet) {}

func (ext) Start(_ context.Context, p *platform.Process, log *slog.Logger) error {
	Mount(p.API)
	log.Info("portal and province dashboard served", "url", p.URL())
	return nil
}

// Mount adds the portal's and the dashboard's routes to s.
func Mount(s *platform.Server) {
	ph := portal.Handler()
	for pattern := range portal.Pages {
		s.Handle(pattern, ph)
	}
	s.Handle("GET /p/", ph)
	s.Handle("GET /assets/", ph)
	dh := province.Handler()
	for pattern := range province.Pages {
		s.Handle(pattern, dh)
	}
	s.Handle("GET /province/p/", dh)
}
