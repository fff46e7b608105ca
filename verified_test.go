package keycard

import (
	"strings"
	"sync"
	"testing"

	"github.com/keycard-go/keycard/event"
)

func TestOpenRemembersVerifiedTokens(t *testing.T) {
	m, err := New(Config{Keys: []Key{testKey(1)}})
	if err != nil {
		t.Fatal(err)
	}
	var id sessionID
	id[0] = 42
	token := m.ids.sign(&id)
	if m.ids.seen.get(token) != nil {
		t.Fatal("a token never opened is in the cache")
	}
	for i := range 2 {
		got, key, reason := m.ids.open(token)
		if reason != "" || got != id || key != id.hash() {
			t.Fatalf("open #%d = %x, %q, %q; want %x, %q", i+1, got, key, reason, id, id.hash())
		}
		if m.ids.seen.get(token) == nil {
			t.Fatalf("after open #%d the verified token is not remembered", i+1)
		}
	}

	// A token differing from a remembered one in any single character is
	// refused, and refused tokens are never remembered.
	for i := range token {
		c := byte('A')
		if token[i] == c {
			c = 'B'
		}
		forged := token[:i] + string(c) + token[i+1:]
		got, key, reason := m.ids.open(forged)
		if reason == "" || got != (sessionID{}) || key != "" {
			t.Fatalf("forged token (char %d changed) opened: %x, %q, %q", i, got, key, reason)
		}
		if m.ids.seen.get(forged) != nil {
			t.Fatalf("forged token (char %d changed) was remembered", i)
		}
	}

	// Another Manager's keys do not accept the token, whatever this one
	// remembers.
	other, err := New(Config{Keys: []Key{testKey(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, reason := other.ids.open(token); reason != event.ReasonBadMAC {
		t.Fatalf("another key's Manager opened the token: reason %q", reason)
	}
}

func TestVerifiedTokensTakeSlotsFromEachOther(t *testing.T) {
	m, err := New(Config{Keys: []Key{testKey(1)}})
	if err != nil {
		t.Fatal(err)
	}
	// Three times as many tokens as slots: each new token takes its slot,
	// so the newest is always remembered, and every token still opens as
	// itself, remembered or not.
	const n = 3 * verifiedSlots
	tokens := make([]string, n)
	ids := make([]sessionID, n)
	for i := range n {
		ids[i][0], ids[i][1] = byte(i), byte(i>>8)
		tokens[i] = m.ids.sign(&ids[i])
		if _, _, reason := m.ids.open(tokens[i]); reason != "" {
			t.Fatalf("token %d refused: %q", i, reason)
		}
		if e := m.ids.seen.get(tokens[i]); e == nil || e.id != ids[i] {
			t.Fatalf("token %d not remembered right after it was opened", i)
		}
	}
	remembered := 0
	for i := range n {
		if m.ids.seen.get(tokens[i]) != nil {
			remembered++
		}
		id, key, reason := m.ids.open(tokens[i])
		if reason != "" || id != ids[i] || key != ids[i].hash() {
			t.Fatalf("token %d opened as %x, %q, %q", i, id, key, reason)
		}
	}
	if remembered == 0 || remembered > verifiedSlots {
		t.Errorf("%d of %d tokens remembered, want 1..%d", remembered, n, verifiedSlots)
	}
}

func TestVerifiedTokensKeepOnlyTokenSizedValues(t *testing.T) {
	c := newVerifiedTokens()
	for _, v := range []string{"", "abc", strings.Repeat("A", tokenEncodedSz+1)} {
		c.put(v, sessionID{1}, "k")
		if c.get(v) != nil {
			t.Errorf("a %d-byte value was remembered; only %d-byte tokens verify", len(v), tokenEncodedSz)
		}
	}
}

func TestVerifiedTokensConcurrent(t *testing.T) {
	m, err := New(Config{Keys: []Key{testKey(1)}})
	if err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, 64)
	ids := make([]sessionID, len(tokens))
	for i := range tokens {
		ids[i][0], ids[i][1] = byte(i), 1
		tokens[i] = m.ids.sign(&ids[i])
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for r := range 200 {
				i := (g*31 + r) % len(tokens)
				id, key, reason := m.ids.open(tokens[i])
				if reason != "" || id != ids[i] || key != ids[i].hash() {
					t.Errorf("open(token %d) = %x, %q, %q", i, id, key, reason)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSameToken(t *testing.T) {
	var held [tokenEncodedSz]byte
	for i := range held {
		held[i] = 'a' + byte(i%26)
	}
	token := string(held[:])
	if !sameToken(&held, token) {
		t.Fatal("the held token does not match itself")
	}
	for i := range token {
		other := token[:i] + "#" + token[i+1:]
		if sameToken(&held, other) {
			t.Fatalf("a token differing at byte %d matched", i)
		}
		for bit := range 8 {
			flipped := []byte(token)
			flipped[i] ^= 1 << bit
			if sameToken(&held, string(flipped)) {
				t.Fatalf("a token differing in bit %d of byte %d matched", bit, i)
			}
		}
	}
	for _, v := range []string{"", token[:len(token)-1], token + "a"} {
		if sameToken(&held, v) {
			t.Errorf("a %d-byte value matched the %d-byte token", len(v), len(token))
		}
	}
}
