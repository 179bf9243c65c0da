package node

import (
	"crypto/subtle"
	"io/fs"
	"net"
	"net/http"
	"net/http/pprof"
	"path"
	"strings"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// adminHandler serves the admin address: /metrics, /debug/pprof, and the
// operator dashboard (/dashboard page, /dashboard/ws health stream,
// /dashboard/spectate game connection that may watch any room,
// /dashboard/maps/{name} the maps its spectator view draws, POST
// /dashboard/drain). Off loopback every path requires the admin token, as
// "Authorization: Bearer <token>" or, for browsers, "?token=<token>", except
// the dashboard page and its static assets (isDashboardFile).
func (n *Node) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{Registry: n.reg}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /dashboard/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return
		}
		n.health.serveWS(n.healthCtx, conn)
	})
	mux.HandleFunc("GET /dashboard/spectate", n.gw.ServeAdminWS)
	mux.Handle("GET /dashboard/maps/", serveMaps("/dashboard/maps/"))
	mux.HandleFunc("POST /dashboard/drain", func(w http.ResponseWriter, r *http.Request) {
		n.RequestDrain()
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("drain started\n"))
	})
	mux.Handle("GET /dashboard/", n.dashboardPage())
	mux.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard/"+queryOf(r), http.StatusFound)
	})
	if n.cfg.AdminToken == "" {
		return mux
	}
	want := []byte(n.cfg.AdminToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isDashboardFile(r) {
			mux.ServeHTTP(w, r)
			return
		}
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if got == "" {
			got = r.URL.Query().Get("token")
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="arbiter-admin"`)
			http.Error(w, "admin token required", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// isDashboardFile reports whether r asks for the dashboard page or one of
// its built assets. They need no token: a browser opened on
// /dashboard/?token=... cannot pass the token on to the scripts and styles
// the page loads, and these files are the public web build (the public
// address serves the same ones). Everything the page then does (the health
// stream, spectating, maps, the drain) still needs the token.
func isDashboardFile(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if p != path.Clean(p) && p != "/dashboard/" {
		return false
	}
	return p == "/dashboard" || p == "/dashboard/" || p == "/dashboard/dashboard.html" || strings.HasPrefix(p, "/dashboard/assets/")
}

func queryOf(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return "?" + r.URL.RawQuery
}

// dashboardPage serves the built dashboard (client-web's dashboard.html and
// its assets) or, before the web client is built, a page that says so.
func (n *Node) dashboardPage() http.Handler {
	if n.cfg.Web != nil {
		if _, err := fs.Stat(n.cfg.Web, "dashboard.html"); err == nil {
			files := http.FileServerFS(n.cfg.Web)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p := strings.TrimPrefix(r.URL.Path, "/dashboard")
				if p == "/" || p == "" {
					p = "/dashboard.html"
				}
				r2 := r.Clone(r.Context())
				r2.URL.Path = p
				files.ServeHTTP(w, r2)
			})
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><meta charset="utf-8"><title>Arbiter dashboard</title>
<p>The dashboard page is part of the web client build (client-web). Build it with <code>make web</code> and restart the server.
The live health stream is at <code>/dashboard/ws</code> (binary arbiter.v1.Health messages).</p>`))
	})
}

// isLoopback reports whether addr listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RequestDrain starts a drain as SIGTERM does: cmd/arbiter waits on
// DrainRequested. The health stream says so at once.
func (n *Node) RequestDrain() {
	n.drainOnce.Do(func() {
		n.log.Info("drain requested from the dashboard")
		close(n.drainReq)
	})
	n.gw.Drain()
	n.health.notify(arbiterv1.HealthReason_HEALTH_REASON_DRAIN_STARTED)
}

// DrainRequested is closed when the dashboard asks for a drain.
func (n *Node) DrainRequested() <-chan struct{} { return n.drainReq }
