package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium (package chromium), which CI installs
// with apt-get.
const chromiumPath = "/usr/bin/chromium"

// Time limits. Every wait in these tests is bounded by one of them. They
// are guards against a hang, not expectations of speed: each is many
// times what its wait takes on a loaded 2-core machine with the race
// detector, and a wait that ends sooner costs nothing.
const (
	buildTimeout   = 5 * time.Minute  // go build of cmd/keycard, cold cache included
	startTimeout   = time.Minute      // the demo listening on its port
	stopTimeout    = 30 * time.Second // the demo exiting after SIGTERM
	browserTimeout = 5 * time.Minute  // everything one browser does in a test
	stepTimeout    = time.Minute      // one browser step: a navigation, a click, a query
)

// Viewport of every browser, and so the width of the screenshots.
const viewportWidth, viewportHeight = 1024, 768

// screenshotsEnv names the environment variable that, set to 1, makes the
// tests write their screenshots into docs/screenshots (the committed set)
// instead of a temporary directory.
const screenshotsEnv = "KEYCARD_SCREENSHOTS"

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// build holds the keycard binary, built once for every test.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// keycardBinary builds cmd/keycard, once, with the race detector when the
// tests have it, and returns the binary's path. It needs workspace mode:
// the module of these tests does not require the keycard command, the
// repository's go.work provides it.
func keycardBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "keycard-e2e-bin-")
		if build.err != nil {
			return
		}
		bin := filepath.Join(build.dir, "keycard")
		args := []string{"build"}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "-o", bin, "github.com/keycard-go/keycard/cmd/keycard")
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go %s: %v\n%s(the e2e module builds the keycard command through the repository's go.work: run the tests from the repository, without GOWORK=off)", strings.Join(args, " "), err, out)
			return
		}
		build.path = bin
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// chromium returns the path of Chromium. Without it the test is skipped,
// except in CI (CI=true), where a missing browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("browser tests need Chromium at %s (Debian: apt-get install chromium): %v", chromiumPath, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chromiumPath
}

// demoServer is a running "keycard demo".
type demoServer struct {
	URL  string // http://127.0.0.1:PORT
	Host string // 127.0.0.1:PORT
}

// startDemo runs "keycard demo" on a free port of 127.0.0.1 with a new data
// directory, waits until it accepts connections, and stops it (SIGTERM to
// its PID, then SIGKILL) when the test ends. Its output is logged if the
// test fails; a data race it reports fails the test.
func startDemo(t *testing.T) *demoServer {
	t.Helper()
	chromium(t) // every test drives a browser: skip before building anything
	bin := keycardBinary(t)
	data := t.TempDir()
	var lastOut string
	for attempt := 0; attempt < 3; attempt++ {
		host := net.JoinHostPort("127.0.0.1", freePort(t))
		out := new(syncBuffer)
		cmd := exec.Command(bin, "demo", "--addr", host, "--data", data)
		cmd.Env = demoEnv()
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start keycard demo: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if err := waitListening(host, exited); err != nil {
			cmd.Process.Kill()
			<-exited
			lastOut = out.String()
			if strings.Contains(lastOut, "address already in use") {
				continue // another process took the port meanwhile
			}
			t.Fatalf("keycard demo on %s: %v\n%s", host, err, lastOut)
		}
		pid := cmd.Process.Pid
		t.Cleanup(func() {
			stopDemo(t, cmd.Process, exited)
			log := out.String()
			if strings.Contains(log, "DATA RACE") {
				t.Errorf("the demo (PID %d) reported a data race:\n%s", pid, log)
			} else if t.Failed() {
				t.Logf("output of keycard demo (PID %d):\n%s", pid, log)
			}
		})
		return &demoServer{URL: "http://" + host, Host: host}
	}
	t.Fatalf("keycard demo: no free port after 3 attempts\n%s", lastOut)
	return nil
}

// demoEnv is the environment of the demo: the test's, without the
// variables that would point the demo at another store, key file, data
// directory or address.
func demoEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "KEYCARD_STORE", "KEYCARD_KEYS_FILE", "KEYCARD_DATA", "KEYCARD_ADDR":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// stopDemo ends the demo process by its PID: SIGTERM, and SIGKILL if it
// has not exited within stopTimeout.
func stopDemo(t *testing.T, p *os.Process, exited <-chan struct{}) {
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Logf("stop keycard demo (PID %d): %v", p.Pid, err)
	}
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		t.Errorf("keycard demo (PID %d) still running %v after SIGTERM; killing it", p.Pid, stopTimeout)
		p.Kill()
		<-exited
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// waitListening waits until host accepts TCP connections, the process
// exits, or startTimeout passes.
func waitListening(host string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", host, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before listening")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening after %v: %v", startTimeout, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// browser is one headless Chromium process with a profile of its own: its
// own cookie jar, as a separate device would have.
type browser struct {
	t    *testing.T
	name string // for messages: "A", "B", "attacker's victim"...
	ctx  context.Context
	base string // the demo's URL
}

// allocatorOptions are Chromium's command-line flags. The first group is
// what this machine needs (see doc.go); the rest keeps Chromium quiet.
func allocatorOptions(exe, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),

		chromedp.WindowSize(viewportWidth, viewportHeight),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("force-color-profile", "srgb"),
	}
}

// newBrowser starts a Chromium with a new, empty profile directory and
// opens a tab on about:blank. The browser and its profile go away when the
// test ends.
func newBrowser(t *testing.T, d *demoServer, name string) *browser {
	t.Helper()
	exe := chromium(t)
	profile, err := os.MkdirTemp("", "keycard-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	base, cancelBase := context.WithTimeout(context.Background(), browserTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(base, allocatorOptions(exe, profile)...)
	ctx, cancelCtx := chromedp.NewContext(actx,
		chromedp.WithErrorf(func(format string, args ...any) { fmt.Fprintf(&logs, format+"\n", args...) }))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // kills Chromium and waits for it
		cancelBase()
		// Chromium's child processes may still hold files for a moment.
		var err error
		for i := 0; i < 50; i++ {
			if err = os.RemoveAll(profile); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Logf("remove Chromium profile %s: %v", profile, err)
		}
		if s := logs.String(); s != "" && t.Failed() {
			t.Logf("chromedp errors of browser %s:\n%s", name, s)
		}
	})
	// The first Do starts the browser and ties its life to ctx, so it runs
	// under ctx itself (bounded by browserTimeout), not under a step's
	// shorter timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser %s: start Chromium: %v", name, err)
	}
	return &browser{t: t, name: name, ctx: ctx, base: d.URL}
}

// on returns the browser for use in the subtest t: its failures end t.
func (b *browser) on(t *testing.T) *browser {
	c := *b
	c.t = t
	return &c
}

// fail ends the test with a message naming the browser.
func (b *browser) fail(what string, err error) {
	b.t.Helper()
	b.t.Fatalf("browser %s: %s: %v", b.name, what, err)
}

// do runs actions within stepTimeout.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// run runs one action within stepTimeout and returns its value.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// open loads a path of the demo (or an absolute URL) and returns the
// status of the final document, after redirects.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.base + path
	}
	resp := run(b, "open "+u, chromedp.NavigateResponse(u))
	if resp == nil {
		b.fail("open "+u, errors.New("no response"))
	}
	return resp.Status
}

// click clicks the element that the CSS selector finds, waits for the page
// that it loads, and returns that page's status, after redirects.
func (b *browser) click(what, css string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css)))
	if err != nil {
		b.fail(what, err)
	}
	if resp == nil {
		b.fail(what, errors.New("no response"))
	}
	return resp.Status
}

// submitOK clicks a form's button and wants a 200 page.
func (b *browser) submitOK(what, css string) {
	b.t.Helper()
	if code := b.click(what, css); code != http.StatusOK {
		b.t.Fatalf("browser %s: %s: status %d, want 200", b.name, what, code)
	}
}

// openOK loads a path of the demo and wants a 200 page.
func (b *browser) openOK(path string) {
	b.t.Helper()
	if code := b.open(path); code != http.StatusOK {
		b.t.Fatalf("browser %s: open %s: status %d, want 200", b.name, path, code)
	}
}

// eval evaluates JavaScript in the page. DevTools evaluation is not
// subject to the demo's Content-Security-Policy, which allows no script
// (but the live devices page's own).
func eval[T any](b *browser, what, js string) T {
	b.t.Helper()
	return run(b, what, chromedp.Evaluate[T](js))
}

// path returns the path of the current page.
func (b *browser) path() string {
	b.t.Helper()
	return eval[string](b, "read location", `location.pathname`)
}

// user returns the name in the navigation bar's account area, or "" for an
// anonymous visitor, whose bar shows a "Sign in" link instead.
func (b *browser) user() string {
	b.t.Helper()
	return eval[string](b, "read the signed-in user", `(() => {
		const who = document.querySelector("header .who");
		if (!who) throw new Error("no account area on " + location.pathname);
		if (who.querySelector('a[href="/login"]')) return "";
		const name = who.querySelector("span:not(.avatar)");
		return name ? name.textContent.trim() : "?";
	})()`)
}

// cart returns the lines of the cart on the shop page, as "2 × Green tea".
func (b *browser) cart() []string {
	b.t.Helper()
	return eval[[]string](b, "read the cart", `Array.from(
		document.querySelectorAll("table.cart tr:not(.total) td:first-child"),
		td => td.textContent.trim())`)
}

// flashes returns the page's flash messages.
func (b *browser) flashes() []string {
	b.t.Helper()
	return eval[[]string](b, "read flash messages", `Array.from(
		document.querySelectorAll("main p.flash"), p => p.textContent.trim())`)
}

// text returns the trimmed text of the first element that css finds, or ""
// if there is none.
func (b *browser) text(css string) string {
	b.t.Helper()
	return eval[string](b, "read "+css, fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").trim()`, css))
}

// count returns how many elements css finds.
func (b *browser) count(css string) int {
	b.t.Helper()
	return eval[int](b, "count "+css, fmt.Sprintf(`document.querySelectorAll(%q).length`, css))
}

// addToCart clicks the "Add" button of a product on the shop page.
func (b *browser) addToCart(product string) {
	b.t.Helper()
	b.submitOK("add "+product, fmt.Sprintf(`form[action="/cart/add"]:has(input[name="product"][value=%q]) button`, product))
	if p := b.path(); p != "/" {
		b.t.Fatalf("browser %s: after adding %s: at %s, want /", b.name, product, p)
	}
}

// login signs in on the sign-in page, with remember-me if asked, and wants
// to land on the shop signed in as name.
func (b *browser) login(username, password, name string, remember bool) {
	b.t.Helper()
	b.openOK("/login")
	b.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password))
	if remember {
		b.do("tick remember me", chromedp.Click(chromedp.CSS(`input[name="remember"]`)))
	}
	b.submitOK("sign in as "+username, `form[action="/login"] button`)
	if got := b.user(); got != name {
		b.t.Fatalf("browser %s: after signing in as %s: signed in as %q, want %q (flashes %q)", b.name, username, got, name, b.flashes())
	}
}

// cookies returns the cookies that the browser stores for the demo.
func (b *browser) cookies() []*network.Cookie {
	b.t.Helper()
	return run(b, "read cookies", func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
		return res.Cookies, err
	})
}

// cookie returns the stored cookie with that name, or nil.
func (b *browser) cookie(name string) *network.Cookie {
	b.t.Helper()
	for _, c := range b.cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// screenshot saves a full-page PNG of the current page: into
// docs/screenshots when KEYCARD_SCREENSHOTS=1, into a temporary directory
// otherwise, so that ordinary runs leave the committed files alone.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png := run(b, "screenshot", chromedp.FullScreenshot(100))
	dir := b.t.TempDir()
	if os.Getenv(screenshotsEnv) == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", file)
}

// netlog records what Chromium sent and received on the wire, from the
// DevTools "extra info" events, which carry the raw headers.
type netlog struct {
	mu         sync.Mutex
	reqs       map[network.RequestID]*netRequest
	setCookies []string // every Set-Cookie line received, in order
	blocked    []string // Set-Cookie lines that Chromium refused to store, with the reasons
}

// netRequest is one request as it went over the wire. For a redirected
// request, it is the first hop.
type netRequest struct {
	URL, Method string
	Headers     network.Headers // raw request headers
	SentCookies []string        // names of the cookies sent
	Status      int64           // status of the first response
}

// record starts recording the network traffic of the browser's tab.
func (b *browser) record() *netlog {
	b.t.Helper()
	l := &netlog{reqs: map[network.RequestID]*netRequest{}}
	req := func(id network.RequestID) *netRequest {
		r := l.reqs[id]
		if r == nil {
			r = &netRequest{}
			l.reqs[id] = r
		}
		return r
	}
	err := chromedp.Listen(b.ctx, func(ev any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if r := req(ev.RequestID); r.URL == "" {
				r.URL, r.Method = ev.Request.URL, ev.Request.Method
			}
		case *network.EventRequestWillBeSentExtraInfo:
			if r := req(ev.RequestID); r.Headers == nil {
				r.Headers = ev.Headers
				for _, c := range ev.AssociatedCookies {
					if len(c.BlockedReasons) == 0 && c.Cookie != nil {
						r.SentCookies = append(r.SentCookies, c.Cookie.Name)
					}
				}
			}
		case *network.EventResponseReceivedExtraInfo:
			if r := req(ev.RequestID); r.Status == 0 {
				r.Status = ev.StatusCode
			}
			if v := header(ev.Headers, "Set-Cookie"); v != "" {
				l.setCookies = append(l.setCookies, strings.Split(v, "\n")...)
			}
			for _, c := range ev.BlockedCookies {
				l.blocked = append(l.blocked, fmt.Sprintf("%s: %v", c.CookieLine, c.BlockedReasons))
			}
		}
	})
	if err != nil {
		b.fail("record network traffic", err)
	}
	return l
}

// lastSetCookie returns the last Set-Cookie line received for the cookie
// name, or "".
func (l *netlog) lastSetCookie(name string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.setCookies) - 1; i >= 0; i-- {
		if strings.HasPrefix(l.setCookies[i], name+"=") {
			return l.setCookies[i]
		}
	}
	return ""
}

// blockedCookies returns the Set-Cookie lines Chromium refused to store.
func (l *netlog) blockedCookies() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.blocked...)
}

// find returns a copy of the first recorded request with that method and
// URL, or nil.
func (l *netlog) find(method, url string) *netRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.reqs {
		if r.Method == method && r.URL == url {
			c := *r
			return &c
		}
	}
	return nil
}

// header returns a header's value from raw DevTools headers, whose names
// keep the case they had on the wire.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// containsAny reports whether any of ss contains sub.
func containsAny(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// ptr returns a pointer to v, for the optional fields of DevTools
// parameters.
func ptr[T any](v T) *T { return &v }
