// Package natsembed runs a NATS server with JetStream inside the process,
// for tests, the demo (make run) and the central command's embedded
// default — or a cluster of them on loopback for tests (StartCluster). It
// is the only package that imports nats-server.
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
	"net/url"
	"path/filepath"
	"strings"
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

	// Cluster, when its Name is set, makes the server one node of a NATS
	// cluster with JetStream (see StartCluster).
	Cluster ClusterOptions
}

// ClusterOptions join a server to a cluster.
type ClusterOptions struct {
	Name   string   // cluster name, the same on every node
	Port   int      // this node's route port (on Host)
	Routes []string // every node's route URL, e.g. nats-route://127.0.0.1:6222
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
	so := &server.Options{
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
	}
	if o.Cluster.Name != "" {
		so.Cluster = server.ClusterOpts{Name: o.Cluster.Name, Host: o.Host, Port: o.Cluster.Port}
		for _, r := range o.Cluster.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("natsembed: route %q: %w", r, err)
			}
			so.Routes = append(so.Routes, u)
		}
	}
	ns, err := server.NewServer(so)
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

// Cluster is a NATS cluster of embedded servers on loopback, each node
// with its own store directory, client port and route port, JetStream
// clustered across them (streams and KV buckets may have as many replicas
// as there are nodes). For tests and benchmarks.
type Cluster struct {
	Nodes []*Server // nil for a node that is down
	opts  []Options
}

// StartCluster starts n nodes (n ≥ 3 for a JetStream quorum that
// survives one node) with stores under dir, and waits until JetStream has
// a meta leader that every node follows.
func StartCluster(dir string, n int) (*Cluster, error) {
	if n < 1 {
		return nil, errors.New("natsembed: a cluster needs nodes")
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[n+i]))
	}
	c := &Cluster{Nodes: make([]*Server, n)}
	for i := range n {
		c.opts = append(c.opts, Options{Dir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)), Port: ports[i], Name: fmt.Sprintf("hallq-n%d", i+1),
			Cluster: ClusterOptions{Name: "hallq", Port: ports[n+i], Routes: routes}})
	}
	errc := make(chan error, n)
	for i := range n { // together: each waits for the others' routes
		go func() {
			s, err := Start(c.opts[i])
			c.Nodes[i] = s
			errc <- err
		}()
	}
	for range n {
		if e := <-errc; e != nil && err == nil {
			err = e
		}
	}
	if err == nil {
		err = c.WaitReady(30 * time.Second)
	}
	if err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// URLs are the client URLs of every node, comma-separated (nats.Connect
// and the central's -nats take them so).
func (c *Cluster) URLs() string {
	var u []string
	for _, o := range c.opts {
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(u, ",")
}

// Kill stops node i (0-based) at once, as a crashed machine.
func (c *Cluster) Kill(i int) {
	if c.Nodes[i] != nil {
		c.Nodes[i].Stop()
		c.Nodes[i] = nil
	}
}

// Restart starts node i again with its store and ports.
func (c *Cluster) Restart(i int) error {
	var err error
	for range 50 { // the ports may take a moment to be free again
		var s *Server
		if s, err = Start(c.opts[i]); err == nil {
			c.Nodes[i] = s
			return c.WaitReady(30 * time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// WaitReady waits until the running nodes have a JetStream meta leader,
// are current with it, and the leader counts every running node as an
// online peer: until then a stream with as many replicas as nodes is
// refused ("no suitable peers for placement, peer offline").
func (c *Cluster) WaitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		leader, current, running, online := false, true, 0, 0
		for _, s := range c.Nodes {
			if s == nil {
				continue
			}
			running++
			if s.JetStreamIsLeader() {
				leader, online = true, len(s.JetStreamClusterPeers())
			}
			current = current && s.JetStreamIsCurrent()
		}
		if leader && current && online >= running {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("natsembed: the cluster elected no JetStream leader")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops every node.
func (c *Cluster) Stop() {
	for i := range c.Nodes {
		c.Kill(i)
	}
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
