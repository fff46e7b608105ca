package core

import (
	"context"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/keycard-go/keycard/store"
)

func TestScanPatternsSplitTheKeysIntoDisjointParts(t *testing.T) {
	t.Parallel()
	prefix := `app*[1]?\:s:`
	base := globEscaper.Replace(prefix)
	keys := []string{
		"", "0", "f", "0f", "a9", "ff", "a9" + strings.Repeat("0", 62), strings.Repeat("f", 64),
		"x", "0x", "a9x", "G0", "-", "ab-cd", "~raw", "0*", "[", "A0",
	}
	for digits := range 3 {
		patterns := scanPatterns(base, digits)
		if want := map[int]int{0: 1, 1: 16 + 2, 2: 256 + 4}[digits]; len(patterns) != want {
			t.Errorf("%d digits: got %d patterns, want %d", digits, len(patterns), want)
		}
		for _, k := range keys {
			var matched []string
			for _, p := range patterns {
				ok, err := path.Match(p, prefix+k)
				if err != nil {
					t.Fatalf("pattern %q: %v", p, err)
				}
				if ok {
					matched = append(matched, p)
				}
			}
			if len(matched) != 1 {
				t.Errorf("%d digits: key %q matches %q, want exactly one pattern", digits, k, matched)
			}
		}
		for _, p := range patterns {
			if ok, _ := path.Match(p, "other:s:0a"); ok {
				t.Errorf("%d digits: pattern %q matches a key of another prefix", digits, p)
			}
		}
	}
}

func TestScanVisitsEachRecordOnceWhenScanRepeatsKeys(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	b := &fakeBackend{values: map[string][]byte{}}
	for i := range 300 {
		rec := &store.Record{UserID: fmt.Sprintf("user-%d", i), Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}
		if i%3 == 0 {
			rec.Expires = now.Add(-time.Second)
		}
		b.values[fmt.Sprintf("kc:s:%064x", i*7919)] = encodeValue(rec, 1, 0)
	}
	b.values["kc:s:not-hex"] = encodeValue(&store.Record{Expires: now.Add(time.Hour), Deadline: now.Add(time.Hour)}, 1, 0)
	b.values["kc:u:{user-1}"] = []byte("an index") // another kind of key
	for _, bound := range []int{DefaultScanBound, 20} {
		s := New(b, Config{Prefix: "kc:", Now: func() time.Time { return now }, ScanBound: bound})
		seen := map[string]int{}
		err := s.Scan(context.Background(), func(e store.Entry) error {
			seen[e.Key]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 201 {
			t.Errorf("bound %d: visited %d records, want the 201 live ones", bound, len(seen))
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("bound %d: visited %q %d times, want once", bound, k, n)
			}
		}
	}
}

// fakeBackend holds values in a map and serves Scan from two masters, each
// of which returns every key it holds twice, in batches of 7, as SCAN may
// when the server resizes its table.
type fakeBackend struct {
	Backend // the methods Scan does not use
	values  map[string][]byte
}

func (b *fakeBackend) GetMulti(_ context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = b.values[k]
	}
	return out, nil
}

func (b *fakeBackend) Masters(context.Context) ([]Node, error) {
	var halves [2][]string
	i := 0
	for k := range b.values {
		halves[i%2] = append(halves[i%2], k)
		i++
	}
	return []Node{&fakeNode{keys: halves[0]}, &fakeNode{keys: halves[1]}}, nil
}

type fakeNode struct {
	keys []string
}

func (n *fakeNode) Scan(_ context.Context, cursor uint64, match string, _ int64) (uint64, []string, error) {
	all := append(append([]string(nil), n.keys...), n.keys...)
	end := min(int(cursor)+7, len(all))
	var found []string
	for _, k := range all[cursor:end] {
		if ok, err := path.Match(match, k); err != nil {
			return 0, nil, err
		} else if ok {
			found = append(found, k)
		}
	}
	if end == len(all) {
		end = 0
	}
	return uint64(end), found, nil
}

func (n *fakeNode) DBSize(context.Context) (int64, error) {
	return int64(len(n.keys)), nil
}
