package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"), clock)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Sign(Claims{Kind: KindJoin, Player: "p-1", Room: "r-9"}, 30*time.Second)
	c, err := s.Verify(tok, KindJoin)
	if err != nil || c.Player != "p-1" || c.Room != "r-9" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := s.Verify(tok, KindSession); !errors.Is(err, ErrInvalid) {
		t.Fatalf("join token accepted as a session token: %v", err)
	}
	// Forgeries: another key, a flipped payload byte, garbage.
	other, _ := NewSigner([]byte("another key of enough length!!!!"), clock)
	body, sig, _ := strings.Cut(tok, ".")
	flipped := []byte(body)
	flipped[3] ^= 1
	for _, bad := range []string{other.Sign(Claims{Kind: KindJoin, Player: "p-1", Room: "r-9"}, time.Minute), string(flipped) + "." + sig, "", ".", "garbage", tok + "x", strings.Repeat("a", 600)} {
		if _, err := s.Verify(bad, KindJoin); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
	now = now.Add(31 * time.Second)
	if _, err := s.Verify(tok, KindJoin); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestUsedOnce(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, _ := NewSigner(RandomKey(), func() time.Time { return now })
	u := NewUsed(func() time.Time { return now })
	c, _ := s.Verify(s.Sign(Claims{Kind: KindJoin, Player: "p"}, time.Minute), KindJoin)
	if err := u.Spend(c); err != nil {
		t.Fatal(err)
	}
	if err := u.Spend(c); !errors.Is(err, ErrReused) {
		t.Fatalf("second spend: %v", err)
	}
	c2, _ := s.Verify(s.Sign(Claims{Kind: KindJoin, Player: "p"}, time.Minute), KindJoin)
	if err := u.Spend(c2); err != nil {
		t.Fatal("a fresh token for the same seat is refused")
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := NewSigner(RandomKey(), time.Now)
	f.Add(s.Sign(Claims{Kind: KindSession, Player: "x"}, time.Hour))
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, tok string) {
		_, _ = s.Verify(tok, KindSession)
		_, _ = s.Verify(tok, KindJoin)
	})
}
