package node

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/arbiter-gg/arbiter/net/client"
)

// FuzzClientMessage sends arbitrary bytes as one binary message after
// Hello, on a real connection to a real node, and checks that the server
// either answers a Ping on that connection or closes it with a proper
// status, and that another client is still served.
func FuzzClientMessage(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {0x0a, 0x00}, {0x12, 0x02, 0x08, 0x01}, {0xff, 0xff, 0xff},
		{0x22, 0x05, 0x0a, 0x03, 'f', 'o', 'o'},
		{0x4a, 0x04, 0x0a, 0x02, 'x', 'y'},
		{0x5a, 0x03, 0x0a, 0x01, 'h'},
		{0x12, 0x06, 0x08, 0x01, 0x20, 0x80, 0x08},
	} {
		f.Add(seed)
	}
	n := startNode(f, Config{})
	watcher, err := client.Dial(context.Background(), wsURL(n), client.Options{Name: "watcher"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = watcher.Close() })
	var mu sync.Mutex // guards last
	var last time.Time
	f.Fuzz(func(t *testing.T, data []byte) {
		r := rawDial(t, n, 0)
		r.hello()
		if err := r.conn.Write(ctxT(t, 5*time.Second), websocket.MessageBinary, data); err != nil {
			t.Fatalf("write: %v", err)
		}
		_ = r.conn.Write(ctxT(t, 5*time.Second), websocket.MessageBinary, []byte{0x1a, 0x02, 0x08, 0x2a}) // Ping{id: 42}
		for {
			m, st := r.next(10 * time.Second)
			if m == nil {
				switch st {
				case websocket.StatusPolicyViolation, websocket.StatusMessageTooBig, websocket.StatusUnsupportedData:
				default:
					t.Fatalf("closed with %v", st)
				}
				break
			}
			if m.GetPong().GetId() == 42 {
				break
			}
		}
		// The watcher pings within its own rate limit (5/s).
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 300*time.Millisecond {
			return
		}
		last = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, _, err := watcher.Ping(ctx); err != nil {
			t.Fatalf("server stopped answering others: %v", err)
		}
	})
}
