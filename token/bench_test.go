package token

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/keycard-go/keycard"
)

// quiet discards the event logs, so benchmarks measure the work and not
// logging.
func quiet(c *keycard.Config) { c.Logger = slog.New(slog.DiscardHandler) }

func BenchmarkIssue(b *testing.B) {
	e := newEnv(b, withManager(quiet))
	p, _ := e.login(b, "alice")
	c, _ := e.iss.Verify(context.Background(), p.AccessToken)
	s, err := e.m.OpenByHash(context.Background(), c.SessionID)
	if err != nil {
		b.Fatal(err)
	}
	loopMedian(b, func() {
		if _, err := e.iss.Issue(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	e := newEnv(b, withManager(quiet))
	p, _ := e.login(b, "alice")
	ctx := context.Background()
	loopMedian(b, func() {
		if _, err := e.iss.Verify(ctx, p.AccessToken); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkVerifyStrict(b *testing.B) {
	e := newEnv(b, withManager(quiet))
	p, _ := e.login(b, "alice")
	ctx := context.Background()
	loopMedian(b, func() {
		if _, err := e.iss.VerifyStrict(ctx, p.AccessToken); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkGoJoseVerify is the same verification done directly with
// go-jose, the floor Verify is measured against: parse with the algorithm
// pinned, verify and decode the claims, validate iss, aud and the times.
func BenchmarkGoJoseVerify(b *testing.B) {
	e := newEnv(b, withManager(quiet))
	p, _ := e.login(b, "alice")
	pub := e.key.Public()
	algs := []jose.SignatureAlgorithm{jose.EdDSA}
	expected := jwt.Expected{Issuer: testIssuer, AnyAudience: jwt.Audience{testAudience}}
	loopMedian(b, func() {
		tok, err := jwt.ParseSigned(p.AccessToken, algs)
		if err != nil {
			b.Fatal(err)
		}
		var c jwt.Claims
		var ext sidClaim
		if err := tok.Claims(pub, &c, &ext); err != nil {
			b.Fatal(err)
		}
		if err := c.ValidateWithLeeway(expected.WithTime(time.Now()), DefaultLeeway); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkVerifyVsGoJose times Verify and the bare go-jose verification
// of BenchmarkGoJoseVerify alternately, one call each per iteration, and
// reports the medians: preemption on a busy machine hits single samples,
// which the median ignores, rather than one side of the comparison.
func BenchmarkVerifyVsGoJose(b *testing.B) {
	e := newEnv(b, withManager(quiet))
	p, _ := e.login(b, "alice")
	ctx := context.Background()
	pub := e.key.Public()
	algs := []jose.SignatureAlgorithm{jose.EdDSA}
	expected := jwt.Expected{Issuer: testIssuer, AnyAudience: jwt.Audience{testAudience}}
	var ours, raw, ratio []float64
	for b.Loop() {
		t0 := time.Now()
		if _, err := e.iss.Verify(ctx, p.AccessToken); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		tok, err := jwt.ParseSigned(p.AccessToken, algs)
		if err != nil {
			b.Fatal(err)
		}
		var c jwt.Claims
		var ext sidClaim
		if err := tok.Claims(pub, &c, &ext); err != nil {
			b.Fatal(err)
		}
		if err := c.ValidateWithLeeway(expected.WithTime(time.Now()), DefaultLeeway); err != nil {
			b.Fatal(err)
		}
		o, r := float64(t1.Sub(t0)), float64(time.Since(t1))
		ours, raw, ratio = append(ours, o), append(raw, r), append(ratio, o/r)
	}
	b.ReportMetric(median(ours), "verify-ns/op")
	b.ReportMetric(median(raw), "gojose-ns/op")
	b.ReportMetric(median(ratio), "ratio")
}

// loopMedian runs f b.N times and reports, beside the mean, the median
// time of one call, which a busy machine disturbs far less.
func loopMedian(b *testing.B, f func()) {
	b.ReportAllocs()
	var d []float64
	for b.Loop() {
		t := time.Now()
		f()
		d = append(d, float64(time.Since(t)))
	}
	b.ReportMetric(median(d), "median-ns/op")
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// BenchmarkVerifyPrechecks measures what Verify adds in front of go-jose:
// the shape scan and the exact-header key lookup.
func BenchmarkVerifyPrechecks(b *testing.B) {
	e := newEnv(b, withManager(quiet))
	p, _ := e.login(b, "alice")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		dot, ok := compactShape(p.AccessToken)
		if !ok {
			b.Fatal("shape")
		}
		if _, ok := e.iss.keys.lookup(p.AccessToken[:dot], now); !ok {
			b.Fatal("lookup")
		}
	}
}

// BenchmarkVerifyRefused measures the cheapest refusals: an unknown header
// and a megabyte of dots.
func BenchmarkVerifyRefused(b *testing.B) {
	e := newEnv(b, withManager(quiet))
	ctx := context.Background()
	b.Run("bad header", func(b *testing.B) {
		tok := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.c2ln"
		b.ReportAllocs()
		for b.Loop() {
			e.iss.Verify(ctx, tok)
		}
	})
	b.Run("1MB of dots", func(b *testing.B) {
		tok := strings.Repeat(".", 1<<20)
		b.ReportAllocs()
		for b.Loop() {
			e.iss.Verify(ctx, tok)
		}
	})
}

func BenchmarkRefresh(b *testing.B) {
	e := newEnv(b, withManager(quiet))
	p, _ := e.login(b, "alice")
	ctx := context.Background()
	loopMedian(b, func() {
		var err error
		if p, err = e.iss.Refresh(ctx, p.RefreshToken); err != nil {
			b.Fatal(err)
		}
	})
}
