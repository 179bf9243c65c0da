package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/arbiter-gg/arbiter/net/client"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

func TestFlagsFromEnvAndHelp(t *testing.T) {
	env := map[string]string{"ARBITER_TICK_RATE": "60", "ARBITER_ADDR": ":9999", "ARBITER_LOG_FORMAT": "json"}
	o, err := parseFlags([]string{"-addr", ":7777"}, &bytes.Buffer{}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if o.tickRate != 60 || o.addr != ":7777" || o.logFormat != "json" {
		t.Fatalf("%+v: env not applied or flag did not win", o)
	}
	if _, err := parseFlags(nil, &bytes.Buffer{}, func(k string) string {
		if k == "ARBITER_TICK_RATE" {
			return "fast"
		}
		return ""
	}); err == nil {
		t.Fatal("bad env value accepted")
	}
	var help bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &help, func(string) string { return "" }); err != flag.ErrHelp {
		t.Fatalf("-h: %v", err)
	}
	for _, name := range []string{"addr", "admin-addr", "tick-rate", "snapshot-every", "max-players", "max-rooms", "secret", "allowed-origins", "drain-timeout", "log-level", "log-format", "ARBITER_"} {
		if !strings.Contains(help.String(), name) {
			t.Errorf("-h does not document %s", name)
		}
	}
}

// The real binary drains on SIGTERM: /readyz turns 503 at once, players in
// a running round are told (RoomClosed DRAIN when the drain timeout ends
// the room, then Error DRAINING and close 1001), and the process exits in
// time.
func TestDrainOnSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "arbiter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-drain-timeout", "2s", "-log-format", "json", "-web-dir", t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan map[string]any, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
		close(lines)
	}()
	var addr, admin string
	for m := range lines {
		if m["msg"] == "arbiter listening" {
			addr, _ = m["addr"].(string)
			admin, _ = m["admin"].(string)
			if open, _ := m["open"].(string); !strings.HasPrefix(open, "http://") {
				t.Errorf("no URL to open in %v", m)
			}
			break
		}
	}
	if addr == "" {
		t.Fatal("server never said where it listens")
	}
	go func() {
		for range lines {
		}
	}()
	ready := func() int {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if ready() != http.StatusOK {
		t.Fatal("not ready at start")
	}
	if resp, err := http.Get("http://" + admin + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics: %v", err)
	} else {
		resp.Body.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := "ws://" + addr + "/v1/connect"
	a, err := client.Dial(ctx, url, client.Options{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := client.Dial(ctx, url, client.Options{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	done := make(chan error, 1)
	go func() { _, err := b.Play(ctx, "duel"); done <- err }()
	if _, err := a.Play(ctx, "duel"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for ready() != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not turn 503")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ready() == 0 {
		t.Fatal("server stopped listening before the drain")
	}
	rc, err := a.WaitRoomClosed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rc.GetReason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_DRAIN {
		t.Fatalf("room closed with %v", rc.GetReason())
	}
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session not closed")
	}
	if st := a.CloseStatus(); st != websocket.StatusGoingAway {
		t.Fatalf("closed with %v, want 1001", st)
	}
	drained := false
	for _, e := range a.Errors() {
		drained = drained || e.GetCode() == arbiterv1.ErrorCode_ERROR_CODE_DRAINING
	}
	if !drained {
		t.Error("no DRAINING error before the close")
	}
	exit := make(chan error, 1)
	go func() { exit <- cmd.Wait() }()
	select {
	case err := <-exit:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("process did not exit")
	}
	if took := time.Since(start); took > 2*time.Second+5*time.Second {
		t.Fatalf("drain took %v with a 2 s drain timeout", took)
	}
}
