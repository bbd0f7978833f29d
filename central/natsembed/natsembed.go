// Package natsembed runs a NATS server with JetStream inside the process,
// for tests, the demo (make run) and the reference central command. It is
// the only package that imports nats-server.
//
// JetStream syncs every write to disk (sync_interval: always), so an
// acknowledged publish survives a power cut — the guarantee the hall's
// forwarder builds on.
package natsembed

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure an embedded server.
type Options struct {
	Dir  string // JetStream store directory (required)
	Host string // default 127.0.0.1
	Port int    // 0: a random free port
	Name string // server name; default "hallq-central"

	// SyncInterval relaxes durability for benchmarks that measure the
	// forwarder rather than the disk: 0 (the default) syncs every write
	// (sync_interval: always).
	SyncInterval time.Duration

	// TLS, when set, makes the server speak TLS only; with ClientAuth
	// tls.RequireAndVerifyClientCert it verifies client certificates
	// against ClientCAs (mutual TLS). User and Password, when set, are
	// required of every client.
	TLS            *tls.Config
	User, Password string
}

// Server is a running embedded NATS server.
type Server struct {
	*server.Server
	opts Options
}

// Start starts a server and waits until it accepts connections.
func Start(o Options) (*Server, error) {
	if o.Dir == "" {
		return nil, errors.New("natsembed: a store directory is needed")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Name == "" {
		o.Name = "hallq-central"
	}
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{
		ServerName:   o.Name,
		Host:         o.Host,
		Port:         port,
		JetStream:    true,
		StoreDir:     o.Dir,
		SyncAlways:   o.SyncInterval == 0,
		SyncInterval: o.SyncInterval,
		NoLog:        true,
		NoSigs:       true,
		TLS:          o.TLS != nil,
		TLSConfig:    o.TLS,
		TLSVerify:    o.TLS != nil && o.TLS.ClientAuth == tls.RequireAndVerifyClientCert,
		Username:     o.User,
		Password:     o.Password,
	})
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("natsembed: server did not become ready")
	}
	s := &Server{Server: ns, opts: o}
	if a, ok := ns.Addr().(*net.TCPAddr); ok {
		s.opts.Port = a.Port
	}
	return s, nil
}

// URL is the client URL, e.g. nats://127.0.0.1:4222.
func (s *Server) URL() string { return s.ClientURL() }

// Port is the port the server listens on (stable across Restart).
func (s *Server) Port() int { return s.opts.Port }

// Stop shuts the server down and waits until it is gone.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}

// Restart starts a new server on the same port and store directory (after
// Stop), as a central platform coming back from an outage would.
func (s *Server) Restart() (*Server, error) {
	o := s.opts
	var err error
	for range 50 { // the port may take a moment to be free again
		var ns *Server
		if ns, err = Start(o); err == nil {
			return ns, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}
