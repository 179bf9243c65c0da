// Command arbiter runs the Arbiter game server.
//
// The network edge (WebSocket gateway, sessions, matchmaker) is not built
// yet; until it lands this binary says so plainly and exits non-zero rather
// than pretending to serve.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "arbiter: the server is not there yet: the room runtime and the arena game are built (go test ./game/...),")
	fmt.Fprintln(os.Stderr, "arbiter: the WebSocket gateway and matchmaker that make `make run` serve http://localhost:8080 come next.")
	os.Exit(1)
}
