package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/internal/catalog"
	"hallq/queue-server/hall"
)

// CatalogSubject is where the central publishes the whole current matter
// catalogue (one catalog.Catalog JSON message per version, with header
// Nats-Msg-Id catalog@<version>), for every hall (docs/central.md).
const CatalogSubject = "central.catalog"

// Catalogs is the hall side of the catalogue consumer; *hall.Service
// satisfies it. ReceiveCatalog returns after the version is committed.
type Catalogs interface {
	ReceiveCatalog(ctx context.Context, op hall.Op, c catalog.Catalog) (uint64, error)
}

// RunCatalog keeps the hall's copy of the province's catalogue current
// until ctx is cancelled (then it returns nil). It reads the latest message
// on central.catalog (and each later one) with an ordered consumer on
// whichever central stream holds the subject; the hall stores each newer
// version (hall.Service.ReceiveCatalog ignores older ones, so a restart or
// a redelivery is harmless) and keeps it across restarts, so checklists
// show while the province is unreachable. An invalid catalogue is logged
// and skipped; the hall's own trouble (storage) restarts the consumer
// after a back-off, which delivers the latest version again.
func RunCatalog(ctx context.Context, cfg Config, c Catalogs, logger *slog.Logger) error {
	if cfg.NATSURL == "" {
		return errors.New("forward: the catalogue needs a NATS URL")
	}
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("component", "catalog")
	return runConsumer(ctx, &cfg, "hallq-catalog-"+cfg.HallID, "catalogue", log, func(ctx context.Context, js jetstream.JetStream) error {
		return consumeCatalog(ctx, js, c, log)
	})
}

func consumeCatalog(ctx context.Context, js jetstream.JetStream, c Catalogs, log *slog.Logger) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := js.StreamNameBySubject(sctx, CatalogSubject)
	if err != nil {
		return fmt.Errorf("no central stream holds %s yet: %w", CatalogSubject, err)
	}
	cons, err := js.OrderedConsumer(sctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{CatalogSubject},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err != nil {
		return fmt.Errorf("catalogue consumer on %s: %w", stream, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	return each(ctx, it, it.Stop, func(msg jetstream.Msg) error {
		if err := applyCatalog(ctx, msg.Data(), c); err != nil {
			if !errors.Is(err, errPermanent) {
				return err // the hall's own trouble: start again from the latest version
			}
			log.Error("catalogue refused", "msg_id", msg.Headers().Get(jetstream.MsgIDHeader), "err", err)
			return nil
		}
		log.Info("catalogue stored", "msg_id", msg.Headers().Get(jetstream.MsgIDHeader))
		return nil
	})
}

// applyCatalog stores one catalogue message. Unknown fields are allowed:
// the central extends the catalogue by adding fields (internal/catalog),
// and a hall of an older build must keep taking new versions.
func applyCatalog(ctx context.Context, data []byte, c Catalogs) error {
	var cat catalog.Catalog
	if err := json.Unmarshal(data, &cat); err != nil {
		return fmt.Errorf("%w: bad JSON: %v", errPermanent, err)
	}
	_, err := c.ReceiveCatalog(ctx, hall.Op{Actor: "central"}, cat)
	return classify(err)
}
