package natsembed

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of embedded servers on loopback, each
// with its own store directory, client port and route port — for tests
// and benchmarks that kill and restart nodes.
type Cluster struct {
	Nodes []*Server // nil while a node is stopped
	dir   string
	ports [][2]int // client, route
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartCluster starts n nodes (n ≥ 3 for a quorum that survives one
// loss) with stores under dir and waits until they accept connections.
func StartCluster(dir string, n int) (*Cluster, error) {
	c := &Cluster{dir: dir, Nodes: make([]*Server, n), ports: make([][2]int, n)}
	for i := range n {
		for j := range 2 {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			c.ports[i][j] = p
		}
	}
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- c.start(i) }()
	}
	var err error
	for range n {
		err = errors.Join(err, <-errs)
	}
	if err == nil {
		err = c.WaitReady()
	}
	if err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// WaitReady waits until the running nodes have a JetStream meta leader and
// every one of them is current with it (a request sent before that can go
// unanswered).
func (c *Cluster) WaitReady() error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		leader, current := false, true
		for _, n := range c.Nodes {
			if n == nil {
				continue
			}
			leader = leader || n.JetStreamIsLeader()
			current = current && n.JetStreamIsCurrent()
		}
		if leader && current {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("natsembed: the cluster elected no JetStream leader")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) start(i int) error {
	var routes []*url.URL
	for j, p := range c.ports {
		if j != i {
			routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p[1])})
		}
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: fmt.Sprintf("hallq-central-%d", i+1), Host: "127.0.0.1", Port: c.ports[i][0],
		JetStream: true, StoreDir: filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)), SyncAlways: true,
		Cluster: server.ClusterOpts{Name: "hallq", Host: "127.0.0.1", Port: c.ports[i][1]},
		Routes:  routes, NoLog: os.Getenv("NATSEMBED_LOG") == "", NoSigs: true,
	})
	if err != nil {
		return fmt.Errorf("natsembed: node %d: %w", i+1, err)
	}
	if os.Getenv("NATSEMBED_LOG") != "" {
		ns.ConfigureLogger()
	}
	go ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		ns.Shutdown()
		return fmt.Errorf("natsembed: node %d did not become ready", i+1)
	}
	c.Nodes[i] = &Server{Server: ns, opts: Options{Dir: c.dir, Host: "127.0.0.1", Port: c.ports[i][0]}}
	return nil
}

// URLs is every node's client URL, comma-separated (what nats.Connect takes).
func (c *Cluster) URLs() string {
	var u []string
	for _, p := range c.ports {
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", p[0]))
	}
	return strings.Join(u, ",")
}

// Kill stops node i (0-based) abruptly.
func (c *Cluster) Kill(i int) {
	if s := c.Nodes[i]; s != nil {
		s.Stop()
		c.Nodes[i] = nil
	}
}

// Restart starts a stopped node i again on its ports and store.
func (c *Cluster) Restart(i int) error {
	var err error
	for range 50 {
		if err = c.start(i); err == nil {
			return c.WaitReady()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Stop stops every node.
func (c *Cluster) Stop() {
	for i := range c.Nodes {
		c.Kill(i)
	}
}
