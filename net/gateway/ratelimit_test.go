package gateway

import (
	"strings"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBucket(10, 3)
	for i := range 3 {
		if !b.allow(now) {
			t.Fatalf("burst token %d refused", i)
		}
	}
	if b.allow(now) {
		t.Fatal("allowed past the burst")
	}
	now = now.Add(100 * time.Millisecond) // one token at 10/s
	if !b.allow(now) || b.allow(now) {
		t.Fatal("refill is not 10/s")
	}
	now = now.Add(time.Hour)
	n := 0
	for b.allow(now) {
		n++
	}
	if n != 3 {
		t.Fatalf("refilled to %d, want the burst 3", n)
	}
}

func TestCleanName(t *testing.T) {
	id := "0123abcd-0000"
	for in, want := range map[string]string{
		"  Ada ":                 "Ada",
		"":                       "guest-0123",
		"\x00\x01":               "guest-0123",
		strings.Repeat("ñ", 40):  strings.Repeat("ñ", 24),
		"bad\xffutf8":            "bad\ufffdutf8",
		"tab\tand\nnewline name": "tabandnewline name",
	} {
		if got := cleanName(in, id); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
