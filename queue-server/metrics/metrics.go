// Package metrics exports what operations teams scrape: tickets issued and
// served per service, waiting per service, waits, websocket clients, commit
// latency and the forwarding backlog, in the Prometheus text format. It is
// the only package that imports the Prometheus client.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Metrics is one process's registry.
type Metrics struct {
	reg       *prometheus.Registry
	issued    *prometheus.CounterVec
	served    *prometheus.CounterVec
	noShow    *prometheus.CounterVec
	ratings   *prometheus.CounterVec
	wait      *prometheus.HistogramVec
	wsClients prometheus.Gauge
	commit    prometheus.Histogram
	batch     prometheus.Histogram
}

// New creates a registry with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.issued = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hallq_tickets_issued_total", Help: "Tickets issued, by service and channel."}, []string{"service", "channel"})
	m.served = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hallq_tickets_served_total", Help: "Tickets completed, by service."}, []string{"service"})
	m.noShow = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hallq_tickets_no_show_total", Help: "Tickets marked no-show, by service."}, []string{"service"})
	m.ratings = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hallq_ratings_total", Help: "Satisfaction ratings, by score (5 very satisfied … 1 very dissatisfied)."}, []string{"score"})
	m.wait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hallq_wait_seconds", Help: "Time from queueing to the first call, by service.",
		Buckets: []float64{60, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200}}, []string{"service"})
	m.wsClients = prometheus.NewGauge(prometheus.GaugeOpts{Name: "hallq_websocket_clients", Help: "Connected websocket clients."})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hallq_commit_seconds", Help: "Latency of one group commit (write and fsync).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hallq_commit_batch_events", Help: "Events per group commit.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 12)})
	for _, c := range []prometheus.Collector{m.issued, m.served, m.noShow, m.ratings, m.wait, m.wsClients, m.commit, m.batch} {
		f(c)
	}
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveEvents counts committed events.
func (m *Metrics) ObserveEvents(evs []hall.Event) {
	for _, ev := range evs {
		t := ev.Ticket
		if t == nil {
			continue
		}
		switch ev.Type {
		case hall.EvTicketIssued:
			m.issued.WithLabelValues(t.Service, string(t.Channel)).Inc()
		case hall.EvTicketCalled:
			m.wait.WithLabelValues(t.Service).Observe(t.CalledAt.Sub(t.QueuedAt).Seconds())
		case hall.EvTicketCompleted:
			m.served.WithLabelValues(t.Service).Inc()
		case hall.EvTicketNoShow:
			m.noShow.WithLabelValues(t.Service).Inc()
		case hall.EvTicketRated:
			if t.Rating != nil {
				m.ratings.WithLabelValues(string(rune('0' + t.Rating.Score))).Inc()
			}
		}
	}
}

// ObserveCommit records one group commit.
func (m *Metrics) ObserveCommit(d time.Duration, events int) {
	m.commit.Observe(d.Seconds())
	m.batch.Observe(float64(events))
}

// WSClients sets the number of connected websocket clients.
func (m *Metrics) WSClients(n int) { m.wsClients.Set(float64(n)) }

// Gauge registers a gauge read from fn at every scrape.
func (m *Metrics) Gauge(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// ServiceGauges registers per-service gauges (waiting, estimated wait,
// longest wait) read from fn at every scrape.
func (m *Metrics) ServiceGauges(fn func() []hall.ServiceView) {
	m.reg.MustRegister(&serviceCollector{fn: fn})
}

type serviceCollector struct{ fn func() []hall.ServiceView }

var (
	descWaiting  = prometheus.NewDesc("hallq_waiting", "Tickets waiting now, by service.", []string{"service"}, nil)
	descEstimate = prometheus.NewDesc("hallq_estimated_wait_seconds", "Estimated wait for a walk-in taking a ticket now, by service (-1 unknown).", []string{"service"}, nil)
	descLongest  = prometheus.NewDesc("hallq_longest_wait_seconds", "Longest current wait, by service.", []string{"service"}, nil)
	descWindows  = prometheus.NewDesc("hallq_open_windows", "Open windows serving the service.", []string{"service"}, nil)
)

func (c *serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWaiting
	ch <- descEstimate
	ch <- descLongest
	ch <- descWindows
}

func (c *serviceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.fn() {
		ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(s.Waiting), s.Code)
		ch <- prometheus.MustNewConstMetric(descEstimate, prometheus.GaugeValue, float64(s.EstimatedWaitS), s.Code)
		ch <- prometheus.MustNewConstMetric(descLongest, prometheus.GaugeValue, float64(s.LongestWaitS), s.Code)
		ch <- prometheus.MustNewConstMetric(descWindows, prometheus.GaugeValue, float64(s.OpenWindows), s.Code)
	}
}

// KioskGauges registers per-kiosk gauges read from fn at every scrape:
// hallq_kiosk_online (reported within the last 90 s and connected),
// hallq_kiosk_printer_ok (the printer can print) and
// hallq_kiosk_offline_set_aside (offline tickets the server refused).
func (m *Metrics) KioskGauges(fn func() []wire.DeviceHealth) {
	m.reg.MustRegister(&kioskCollector{fn: fn})
}

type kioskCollector struct{ fn func() []wire.DeviceHealth }

var (
	descKioskOnline  = prometheus.NewDesc("hallq_kiosk_online", "1 when the kiosk reported within the last 90 s and is connected.", []string{"kiosk"}, nil)
	descKioskPrinter = prometheus.NewDesc("hallq_kiosk_printer_ok", "1 when the kiosk's printer can print (paper low still counts as ok).", []string{"kiosk"}, nil)
	descKioskAside   = prometheus.NewDesc("hallq_kiosk_offline_set_aside", "Offline tickets the server refused for good, set aside on the kiosk (their citizens hold paper tickets the queue does not know).", []string{"kiosk"}, nil)
)

func (c *kioskCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descKioskOnline
	ch <- descKioskPrinter
	ch <- descKioskAside
}

func (c *kioskCollector) Collect(ch chan<- prometheus.Metric) {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, d := range c.fn() {
		online := d.Online && time.Since(d.ReportedAt) < 90*time.Second
		ch <- prometheus.MustNewConstMetric(descKioskOnline, prometheus.GaugeValue, b(online), d.Kiosk)
		ch <- prometheus.MustNewConstMetric(descKioskPrinter, prometheus.GaugeValue, b(d.Printer == "ok" || d.Printer == "paper_low"), d.Kiosk)
		ch <- prometheus.MustNewConstMetric(descKioskAside, prometheus.GaugeValue, float64(d.SetAside), d.Kiosk)
	}
}
