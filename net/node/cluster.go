package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/arbiter-gg/arbiter/net/cluster"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// joinCluster starts the embedded NATS server if asked, connects to NATS
// and joins the cluster, announcing this node's endpoint. Start calls it
// once the public listener is bound (the endpoint may name its port).
func (n *Node) joinCluster() error {
	endpoint, err := n.endpoint()
	if err != nil {
		return err
	}
	url := n.cfg.NATS
	if n.cfg.NATSEmbed != "" {
		if n.embedded, err = startEmbedded(n.cfg.NATSEmbed, n.cfg.NATSDir); err != nil {
			return err
		}
		if url == "" {
			url = n.embedded.ClientURL()
		}
		n.log.Info("embedded NATS server running", "url", n.embedded.ClientURL(), "jetstream", n.embedded.StoreDir())
	}
	n.nc, err = nats.Connect(url,
		nats.Name("arbiter "+n.cfg.NodeID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				return // our own Close
			}
			n.log.Warn("NATS disconnected", "error", err)
			n.health.notify(arbiterv1.HealthReason_HEALTH_REASON_CLUSTER_CHANGED)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			n.log.Warn("NATS error", "subject", subject, "error", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			n.log.Info("NATS reconnected", "url", c.ConnectedUrlRedacted())
			n.health.notify(arbiterv1.HealthReason_HEALTH_REASON_CLUSTER_CHANGED)
		}),
	)
	if err != nil {
		n.stopEmbedded()
		return fmt.Errorf("node: connect to NATS %s: %w", url, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := n.cluster.Start(ctx, n.nc, endpoint); err != nil {
		n.nc.Close()
		n.stopEmbedded()
		return err
	}
	return nil
}

// endpoint is the WebSocket URL this node announces: from PublicURL, or
// from the bound address when it names a host.
func (n *Node) endpoint() (string, error) {
	if n.cfg.PublicURL != "" {
		return cluster.Endpoint(n.cfg.PublicURL)
	}
	host, port, err := net.SplitHostPort(n.pubLn.Addr().String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		return "", fmt.Errorf("node: cluster mode on %s: set the public URL (-public-url) clients reach this node at", n.cfg.Addr)
	}
	return cluster.Endpoint("http://" + net.JoinHostPort(host, port))
}

// leaveCluster leaves the registry, closes the NATS connection and stops
// the embedded server. The last step of a drain.
func (n *Node) leaveCluster() {
	if n.cluster == nil {
		return
	}
	n.cluster.Close()
	if n.nc != nil {
		n.nc.Close()
	}
	n.stopEmbedded()
}

func (n *Node) stopEmbedded() {
	if n.embedded != nil {
		n.embedded.Shutdown()
		n.embedded.WaitForShutdown()
		n.embedded = nil
	}
}

// Kill stops the node the way a crash would, for failure tests: the NATS
// connection drops first, so the node neither leaves the registry nor
// releases its leases (the others notice when the entries expire); then
// connections are cut and rooms end. The node is unusable afterwards.
func (n *Node) Kill() {
	n.shutdownOnce.Do(func() {
		if n.nc != nil {
			n.nc.Close()
		}
		n.gw.Drain()
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // no grace: sessions are cut
		_ = n.gw.CloseAll(ctx)
		_ = n.pub.Close()
		n.alloc.Close()
		n.mmCancel()
		<-n.mmDone
		if n.cluster != nil {
			n.cluster.Close()
		}
		n.stopEmbedded()
		n.healthStop()
		<-n.healthDone
		if n.admin != nil {
			_ = n.admin.Close()
		}
	})
}

// startEmbedded runs a NATS server with JetStream on addr (host:port),
// keeping its data in dir (a new temporary directory when empty).
func startEmbedded(addr, dir string) (*natsserver.Server, error) {
	host, portS, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("node: embedded NATS address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return nil, fmt.Errorf("node: embedded NATS port %q: %w", portS, err)
	}
	if port == 0 {
		port = -1 // any free port
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "arbiter-nats-"); err != nil {
			return nil, err
		}
	}
	s, err := natsserver.NewServer(&natsserver.Options{
		Host: host, Port: port, JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true, ServerName: "arbiter-embedded",
	})
	if err != nil {
		return nil, fmt.Errorf("node: embedded NATS: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("node: embedded NATS on %s did not start", addr)
	}
	return s, nil
}
