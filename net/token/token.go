// Package token signs and verifies the short tokens Arbiter hands to
// clients: session tokens (who a guest is, so a reconnect resumes the same
// identity) and join tokens (one seat in one room, for a short time).
//
// A token is base64url(payload) "." base64url(HMAC-SHA256(key, payload)).
// The payload is binary: kind, expiry (Unix seconds), a random nonce, then
// length-prefixed strings. Tokens are opaque to clients.
package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Errors returned by verification.
var (
	ErrInvalid = errors.New("token: malformed or wrongly signed")
	ErrExpired = errors.New("token: expired")
	ErrReused  = errors.New("token: already used")
)

// Kind tells tokens apart, so one kind can never stand in for another.
type Kind byte

// Token kinds.
const (
	KindSession Kind = 1
	KindJoin    Kind = 2
)

// Claims is what a token says.
type Claims struct {
	Kind    Kind
	Expires time.Time
	// Nonce makes every token unique; join tokens are single-use by nonce.
	Nonce [8]byte
	// Player is the player's UUID; Room is set on join tokens.
	Player string
	Room   string
}

// Signer signs and verifies tokens with one key. Safe for concurrent use.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer. The key should be at least 32 random bytes;
// now is the clock (time.Now in production).
func NewSigner(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("token: signing key of %d bytes is too short (want at least 16)", len(key))
	}
	return &Signer{key: bytes.Clone(key), now: now}, nil
}

// RandomKey returns a fresh 32-byte key.
func RandomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// Sign returns a token carrying c, valid for ttl from now.
func (s *Signer) Sign(c Claims, ttl time.Duration) string {
	c.Expires = s.now().Add(ttl)
	if c.Nonce == ([8]byte{}) {
		_, _ = rand.Read(c.Nonce[:])
	}
	p := make([]byte, 0, 64)
	p = append(p, byte(c.Kind))
	p = binary.BigEndian.AppendUint64(p, uint64(c.Expires.Unix()))
	p = append(p, c.Nonce[:]...)
	p = appendString(p, c.Player)
	p = appendString(p, c.Room)
	mac := hmac.New(sha256.New, s.key)
	mac.Write(p)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(p) + "." + enc.EncodeToString(mac.Sum(nil))
}

// Verify checks a token's signature, kind and expiry and returns its
// claims.
func (s *Signer) Verify(tok string, kind Kind) (Claims, error) {
	if len(tok) > 512 {
		return Claims{}, ErrInvalid
	}
	body, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return Claims{}, ErrInvalid
	}
	enc := base64.RawURLEncoding
	p, err1 := enc.DecodeString(body)
	got, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return Claims{}, ErrInvalid
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(p)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if len(p) < 17 {
		return Claims{}, ErrInvalid
	}
	c.Kind = Kind(p[0])
	c.Expires = time.Unix(int64(binary.BigEndian.Uint64(p[1:9])), 0)
	copy(c.Nonce[:], p[9:17])
	rest := p[17:]
	var ok1, ok2 bool
	c.Player, rest, ok1 = readString(rest)
	c.Room, rest, ok2 = readString(rest)
	if !ok1 || !ok2 || len(rest) != 0 || c.Kind != kind {
		return Claims{}, ErrInvalid
	}
	if !s.now().Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// Used remembers the nonces of spent single-use tokens until they expire,
// so a join token works once. Safe for concurrent use.
type Used struct {
	mu   sync.Mutex // guards seen
	seen map[[8]byte]time.Time
	now  func() time.Time
}

// NewUsed returns an empty set.
func NewUsed(now func() time.Time) *Used {
	return &Used{seen: make(map[[8]byte]time.Time), now: now}
}

// Spend marks c's nonce used; it returns ErrReused if it already was.
// Expired entries are forgotten as it goes.
func (u *Used) Spend(c Claims) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	if len(u.seen) > 1024 {
		for n, exp := range u.seen {
			if !now.Before(exp) {
				delete(u.seen, n)
			}
		}
	}
	if _, ok := u.seen[c.Nonce]; ok {
		return ErrReused
	}
	u.seen[c.Nonce] = c.Expires
	return nil
}
