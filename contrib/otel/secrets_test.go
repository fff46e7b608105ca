package keycardotel_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	keycardotel "github.com/keycard-go/keycard/contrib/otel"
	"github.com/keycard-go/keycard/internal/keyring"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestNoSecretInTelemetry runs an anonymous session's write, a login, reads, writes, a conflict, a
// logout, a stale cookie, a forged cookie, a failed login past its limit
// and a form without its CSRF token, then looks for every secret of the
// run in every span, span event, status and metric data point: the
// cookie values, the raw session IDs in any common encoding, the store
// keys beyond the 16-hex prefix events may show, and the signing keys.
func TestNoSecretInTelemetry(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := newBrowser(t, a.ts)
	b.do("POST", "/visit") // an anonymous session, renewed at login
	b.do("POST", "/login")
	b.do("GET", "/me")
	b.do("POST", "/visit")
	a.store.armed.Store(true)
	b.do("POST", "/visit")
	b.do("POST", "/transfer") // no token: refused by csrf
	b.do("POST", "/fail")     // reaches the guard's limit
	saved := b.cookie()
	b.do("POST", "/logout")
	other := newBrowser(t, a.ts)
	other.do("GET", "/me", saved)
	forged := foreignCookie(t)
	other.do("GET", "/me", forged)

	// What the run must have produced, so that the scan below scans it.
	var kinds []string
	for _, sp := range a.ended() {
		for _, e := range sp.Events() {
			kinds = append(kinds, e.Name)
		}
	}
	for _, want := range []string{"keycard.created", "keycard.renewed", "keycard.conflict-retried",
		"keycard.csrf-rejected", "keycard.login-failures", "keycard.destroyed", "keycard.rejected"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("the run made no %s span event (got %v)", want, kinds)
		}
	}

	// The secrets.
	var secrets []secret
	keys := map[string]bool{}
	for _, k := range a.store.seen() {
		keys[k] = true
	}
	for _, v := range append(slices.Clone(b.set), forged.Value) {
		secrets = append(secrets, secret{"cookie value", v})
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(raw) < 1+keyring.KeyIDSize+32 {
			t.Fatalf("cookie %q does not decode to a signed ID: %v", v, err)
		}
		id := raw[1+keyring.KeyIDSize : 1+keyring.KeyIDSize+32]
		sum := sha256.Sum256(id)
		if v != forged.Value && !keys[hex.EncodeToString(sum[:])] {
			t.Fatalf("the ID decoded from cookie %q hashes to no store key: the decoding is wrong", v)
		}
		secrets = append(secrets, encodings("raw session ID", id)...)
	}
	for _, k := range a.keys {
		secrets = append(secrets, encodings("signing key", k)...)
	}
	if len(keys) < 2 {
		t.Fatalf("the store saw %d keys, want at least 2", len(keys))
	}
	for k := range keys {
		// Any 17 hex digits of a key: more than an event's prefix shows.
		for i := 0; i+17 <= len(k); i++ {
			secrets = append(secrets, secret{"store key " + k[:8] + "…", k[i : i+17]})
		}
	}

	// Everything exported.
	var seen []string
	add := func(where string, attrs []attribute.KeyValue) {
		for _, a := range attrs {
			seen = append(seen, where+" "+string(a.Key)+"="+a.Value.String())
		}
	}
	for _, sp := range a.ended() {
		where := "span " + sp.Name()
		seen = append(seen, where, where+" status "+sp.Status().Description)
		add(where, sp.Attributes())
		for _, e := range sp.Events() {
			seen = append(seen, where+" event "+e.Name)
			add(where+" event "+e.Name, e.Attributes)
		}
	}
	points := 0
	for _, sm := range a.collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					points++
					add("metric "+m.Name, dp.Attributes.ToSlice())
					for _, ex := range dp.Exemplars {
						add("exemplar "+m.Name, ex.FilteredAttributes)
					}
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					points++
					add("metric "+m.Name, dp.Attributes.ToSlice())
					for _, ex := range dp.Exemplars {
						add("exemplar "+m.Name, ex.FilteredAttributes)
					}
				}
			default:
				t.Errorf("metric %s has data of type %T, which this test does not scan", m.Name, m.Data)
			}
		}
	}
	if points == 0 || len(seen) < 50 {
		t.Fatalf("scanned %d strings and %d data points: the run exported too little to prove anything", len(seen), points)
	}
	for _, s := range seen {
		for _, sec := range secrets {
			if strings.Contains(s, sec.value) {
				t.Errorf("%s holds a %s", s, sec.what)
			}
		}
	}
	// The prefix events use is there, so the scan would see a longer one.
	prefixes := 0
	for _, s := range seen {
		if strings.Contains(s, string(keycardotel.AttrSession)+"=") {
			prefixes++
		}
	}
	if prefixes == 0 {
		t.Error("no span event names its session: the store-key scan proves nothing")
	}
}

// A secret is a value that must appear in no telemetry.
type secret struct{ what, value string }

// encodings returns b as raw bytes, hex and base64 (standard and URL,
// padded or not), each labelled what.
func encodings(what string, b []byte) []secret {
	var out []secret
	for i, v := range []string{string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)} {
		out = append(out, secret{fmt.Sprintf("%s (encoding %d)", what, i), v})
	}
	return out
}
