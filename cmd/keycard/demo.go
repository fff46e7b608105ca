package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/cmd/keycard/internal/demo"
	"github.com/keycard-go/keycard/cmd/keycard/internal/demoidp"
	"github.com/keycard-go/keycard/cmd/keycard/internal/devcert"
	"github.com/keycard-go/keycard/cmd/keycard/internal/keyfile"
	"github.com/keycard-go/keycard/cmd/keycard/internal/storeurl"
	"github.com/keycard-go/keycard/store"
)

// Files the demo keeps in its data directory.
const (
	demoDatabase = "keycard-demo.db"
	demoCertFile = "keycard-demo-tls.pem"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo")
	addr := nonEmptyFlag(fs, "addr", envOr("KEYCARD_ADDR", "127.0.0.1:8080"), "HOST:PORT, as in 127.0.0.1:8080")
	st := storeFlag(fs)
	data := nonEmptyFlag(fs, "data", envOr("KEYCARD_DATA", "."), "a directory, as in --data .")
	keysPath := nonEmptyFlag(fs, "keys", "", "a key file, as in --keys keycard-demo.keys")
	useTLS := fs.Bool("tls", false, "")
	verbose := fs.Bool("v", false, "")
	operands, err := parse(fs, "demo", usageDemo, args, stdout)
	if err != nil {
		return err
	}
	if len(operands) > 0 {
		return usageError("demo", fmt.Sprintf("unexpected argument %q", operands[0]))
	}
	addrSource := flagSource(fs, "addr", "KEYCARD_ADDR")
	host, err := checkAddr(*addr, addrSource)
	if err != nil {
		return err
	}
	rawStore := *st
	if rawStore == "" {
		rawStore = envOr("KEYCARD_STORE", "sqlite:"+filepath.Join(*data, demoDatabase))
	}
	u, err := parseStore(rawStore)
	if err != nil {
		return err
	}
	if err := makeDataDir(*data, flagSource(fs, "data", "KEYCARD_DATA")); err != nil {
		return err
	}
	if u.Kind == storeurl.SQLite {
		if err := privateDatabase(u.Path); err != nil {
			return err
		}
	}
	h, err := storeurl.Open(ctx, u, storeurl.Options{Migrate: true})
	if err != nil {
		return storeError(u, err)
	}
	defer h.Close()

	kp := *keysPath
	if kp == "" {
		kp = envOr("KEYCARD_KEYS_FILE", filepath.Join(*data, defaultKeysFile))
	}
	keys, keysNew, err := loadOrCreateKeys(kp)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return listenError(*addr, addrSource, err)
	}
	defer ln.Close()
	scheme, certNote := "http", ""
	if *useTLS {
		certPath := filepath.Join(*data, demoCertFile)
		cert, created, err := devcert.LoadOrCreate(certPath, host, time.Now())
		if err != nil {
			return certError(certPath, err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme, certNote = "https", certPath+" (self-signed; the browser warns about it)"
		if created {
			certNote = certPath + " (new, self-signed; the browser warns about it)"
		}
	}
	origin := scheme + "://" + displayAddr(ln.Addr())

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// "Sign in with OpenID Connect" against a provider of the demo's own
	// on another loopback port; its logout requests need a store with a
	// user index.
	var openID *demo.OIDC
	oidcNote := "off: the store has no user index"
	if _, ok := h.Store.(store.UserIndex); ok {
		pln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return failure(fmt.Sprintf("the demo OpenID Provider: %v", err))
		}
		idp := demoidp.Start(pln, origin)
		defer idp.Close()
		openID = &demo.OIDC{Issuer: idp.Issuer, ClientID: demoidp.ClientID, ClientSecret: demoidp.ClientSecret,
			Users: map[string]string{demoidp.Subject: "alice"}}
		oidcNote = idp.Issuer + " (the demo's OpenID Provider; " + demoidp.Username + " / " + demoidp.Password + " signs in as alice)"
	}
	app, err := demo.New(demo.Config{
		Store: h.Store, Keys: keys, Origin: origin, TLS: *useTLS,
		StoreName: storeName(h.URL), Logger: logger, OIDC: openID,
	})
	if err != nil {
		return failure(err.Error())
	}
	srv := &http.Server{
		Handler:           app,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(app.Close) // ends the live page's streams

	keysNote := kp
	if keysNew {
		keysNote += " (new; keep it secret)"
	}
	fmt.Fprintf(stdout, "Keycard demo: %s\n", origin)
	fmt.Fprintf(stdout, "  store  %s\n", h.URL)
	fmt.Fprintf(stdout, "  keys   %s\n", keysNote)
	if certNote != "" {
		fmt.Fprintf(stdout, "  tls    %s\n", certNote)
	}
	fmt.Fprintf(stdout, "  oidc   %s\n", oidcNote)
	fmt.Fprintln(stdout, "Sign in as alice, bob or support (who can act as them); the passwords are on the sign-in page. Stop with Ctrl-C.")
	if ip := net.ParseIP(host); !*useTLS && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintln(stderr, "keycard: hint: over plain HTTP, browsers keep the demo's Secure cookies only for localhost and 127.0.0.1; add --tls to use it from other machines")
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return failure(err.Error())
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	fmt.Fprintln(stderr, "keycard: demo stopped")
	return nil
}

// loadOrCreateKeys reads the key file at path, or creates it.
func loadOrCreateKeys(path string) (keys *keycard.KeyFile, created bool, err error) {
	keys, err = keycard.LoadKeys(path)
	msg := "key file " + strings.TrimPrefix(fmt.Sprint(err), "keycard: keys: ")
	switch {
	case err == nil:
		return keys, false, nil
	case errors.Is(err, fs.ErrNotExist):
	case exposed(path):
		return nil, false, failure(msg) // it says how to fix it
	default:
		return nil, false, failure(msg, `"keycard keys new --out FILE --force" writes a new one (signing everyone out)`)
	}
	keys = keyfile.Generate(time.Now())
	data, err := keys.MarshalText()
	if err != nil {
		return nil, false, failure(err.Error())
	}
	if err := writeKeys(path, data, false); err != nil {
		return nil, false, err
	}
	return keys, true, nil
}

// privateDatabase makes the SQLite database at path readable and writable
// by its owner alone, before SQLite opens it: it creates the file with
// mode 0600 if it is missing, and takes group and other permissions away
// from the database and its -wal and -shm files if a run before this fix
// left them. SQLite gives the -wal and -shm files it creates the
// database's mode, so they are 0600 too, whatever the umask. The files
// hold user IDs, addresses, user agents, carts and CSRF secrets.
func privateDatabase(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return failure(fmt.Sprintf("database file: %v", err), permissionHint(err, filepath.Dir(path)))
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && fi.Mode().Perm()&0o077 != 0 {
			err = os.Chmod(p, fi.Mode().Perm()&0o700)
		}
		if err != nil {
			return failure(fmt.Sprintf("database file: %v", err), permissionHint(err, filepath.Dir(p)))
		}
	}
	return nil
}

// exposed reports whether others than its owner may use the file at path,
// which keycard.LoadKeys refuses.
func exposed(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0
}

// displayAddr returns the host:port to show for a listening address:
// 127.0.0.1 when listening on every address.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	return tcp.String()
}

// storeName describes a store for the demo's pages, without secrets or
// host names.
func storeName(u *storeurl.URL) string {
	switch u.Kind {
	case storeurl.Memory:
		return "memory (lost when the demo stops)"
	case storeurl.SQLite:
		return "SQLite (" + filepath.Base(u.Path) + ")"
	case storeurl.Redis:
		return "Redis"
	case storeurl.Postgres:
		return "PostgreSQL"
	case storeurl.MySQL:
		return "MySQL"
	}
	return u.Kind
}
