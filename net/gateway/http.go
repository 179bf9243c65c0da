package gateway

import (
	"io/fs"
	"net/http"
	"strings"
)

// Handler serves the public address: /v1/connect (WebSocket), /healthz,
// /readyz, and the web client at / (where a WebSocket upgrade is served like
// /v1/connect, so `new WebSocket("ws://host:8080")` reaches the game).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/connect", s.serveWS)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.Draining() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	web := s.webHandler()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			s.serveWS(w, r)
			return
		}
		web.ServeHTTP(w, r)
	})
	return mux
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func (s *Server) webHandler() http.Handler {
	if s.cfg.Web != nil {
		if _, err := fs.Stat(s.cfg.Web, "index.html"); err == nil {
			return http.FileServerFS(s.cfg.Web)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(placeholderPage))
	})
}

const placeholderPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Arbiter</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;color:#222}code{background:#eee;padding:0 .3em}</style>
</head><body>
<h1>Arbiter is running</h1>
<p>The game server is up: WebSocket clients connect to <code>/v1/connect</code>
(or to this address directly) and speak the arbiter.v1 protocol
(see docs/PROTOCOL.md).</p>
<p>The browser client is not built into this server yet. When client-web/ has
one, build it (<code>make run</code> does) and restart the server to play here.</p>
<p>Health: <a href="/healthz">/healthz</a>, readiness: <a href="/readyz">/readyz</a>.
Metrics are on the admin address (<code>/metrics</code>).</p>
</body></html>
`
