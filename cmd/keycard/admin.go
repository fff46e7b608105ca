package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/cmd/keycard/internal/storeurl"
	"github.com/keycard-go/keycard/store"
)

// defaultStore is the store of the admin commands when neither --store nor
// $KEYCARD_STORE names one: the demo's database in the current directory.
const defaultStore = "sqlite:keycard-demo.db"

// storeFlag adds --store to fs.
func storeFlag(fs interface {
	StringVar(*string, string, string, string)
}) *string {
	var s string
	fs.StringVar(&s, "store", "", "store URL")
	return &s
}

// openStore parses and opens the store of an admin command. Admin commands
// never create an SQLite database.
func openStore(ctx context.Context, flagValue string) (*storeurl.Handle, error) {
	raw := flagValue
	if raw == "" {
		raw = envOr("KEYCARD_STORE", defaultStore)
	}
	u, err := parseStore(raw)
	if err != nil {
		return nil, err
	}
	h, err := storeurl.Open(ctx, u, storeurl.Options{MustExist: true})
	if err != nil {
		return nil, storeError(err)
	}
	return h, nil
}

// parseStore parses a store URL, with hints for the usual mistakes.
func parseStore(raw string) (*storeurl.URL, error) {
	u, err := storeurl.Parse(raw)
	if err != nil {
		hints := []string{"store URLs look like sqlite:keycard-demo.db, redis://127.0.0.1:6379/0, postgres://USER@HOST/DB or mysql://USER@HOST:3306/DB"}
		if !strings.Contains(raw, ":") && strings.Contains(raw, ".") {
			hints = append([]string{fmt.Sprintf("for a database file, write sqlite:%s", raw)}, hints...)
		}
		return nil, failure(err.Error(), hints...)
	}
	return u, nil
}

// storeError explains a failure to open a store.
func storeError(err error) error {
	switch {
	case errors.Is(err, storeurl.ErrNoDatabase):
		return failure(err.Error(), `"keycard demo" creates it; or name another store with --store or $KEYCARD_STORE`)
	case errors.Is(err, storeurl.ErrSyntax):
		return failure(err.Error(), "check the store URL given with --store or $KEYCARD_STORE")
	}
	return failure(err.Error(), "is the server running and reachable? Check --store or $KEYCARD_STORE")
}

// adminManager returns a Manager over st for per-user operations. Admin
// commands never see a cookie, so its key is random, and its events go
// nowhere.
func adminManager(st store.Store) (*keycard.Manager, error) {
	return keycard.New(keycard.Config{
		Store:  st,
		Keys:   []keycard.Key{keycard.NewKey()},
		Logger: slog.New(slog.DiscardHandler),
	})
}

// noScanner explains a store that cannot list all its sessions.
func noScanner(h *storeurl.Handle, what string) error {
	return failure(fmt.Sprintf("this store cannot list all sessions (%s has no store.Scanner), which %s needs", h.URL.Kind, what),
		`"keycard sessions ls --user USER" lists one user's sessions on any store with a user index`)
}

// sessionRow is one session as ls prints it.
type sessionRow struct {
	Hash         string    `json:"hash"`
	User         string    `json:"user"`
	Created      time.Time `json:"created"`
	LastSeen     time.Time `json:"last_seen"`
	AuthTime     time.Time `json:"auth_time,omitzero"`
	IdleDeadline time.Time `json:"idle_deadline"`
	Deadline     time.Time `json:"deadline"`
	Remembered   bool      `json:"remembered"`
	IP           string    `json:"ip,omitempty"`
	UserAgent    string    `json:"user_agent,omitempty"`
}

func rowOf(e store.Entry) sessionRow {
	r := e.Record
	return sessionRow{Hash: e.Key, User: r.UserID, Created: r.Created.UTC(), LastSeen: r.LastSeen.UTC(),
		AuthTime: r.AuthTime.UTC(), IdleDeadline: r.Expires.UTC(), Deadline: r.Deadline.UTC(),
		Remembered: r.Persistent, IP: r.IP, UserAgent: r.UserAgent}
}

func cmdSessionsLs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sessions ls")
	st := storeFlag(fs)
	user := fs.String("user", "", "")
	asJSON := fs.Bool("json", false, "")
	operands, err := parse(fs, "sessions ls", usageSessions, args, stdout)
	if err != nil {
		return err
	}
	if len(operands) > 0 {
		return usageError("sessions ls", fmt.Sprintf("unexpected argument %q", operands[0]))
	}
	h, err := openStore(ctx, *st)
	if err != nil {
		return err
	}
	defer h.Close()

	rows, err := listSessions(ctx, h, *user)
	if err != nil {
		return err
	}
	slices.SortFunc(rows, func(a, b sessionRow) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), strings.Compare(a.Hash, b.Hash))
	})
	if *asJSON {
		if rows == nil {
			rows = []sessionRow{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(stderr, "keycard: no live sessions")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HASH\tUSER\tLAST SEEN\tEXPIRES\tREMEMBERED\tADDRESS\tUSER AGENT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Hash, orDash(r.User), clock(r.LastSeen),
			clock(earlier(r.IdleDeadline, r.Deadline)), yesNo(r.Remembered), orDash(r.IP), orDash(truncate(r.UserAgent, 40)))
	}
	return tw.Flush()
}

// listSessions returns the live sessions of user, or of everyone if user
// is "".
func listSessions(ctx context.Context, h *storeurl.Handle, user string) ([]sessionRow, error) {
	var rows []sessionRow
	if user != "" {
		m, err := adminManager(h.Store)
		if err != nil {
			return nil, err
		}
		infos, err := m.Sessions(ctx, user)
		if errors.Is(err, keycard.ErrUnsupported) {
			return nil, failure(fmt.Sprintf("this store has no user index (%s lacks store.UserIndex), so it cannot list a user's sessions", h.URL.Kind))
		}
		if err != nil {
			return nil, failure(err.Error())
		}
		for _, in := range infos {
			rows = append(rows, sessionRow{Hash: in.Hash, User: in.UserID, Created: in.Created.UTC(),
				LastSeen: in.LastSeen.UTC(), AuthTime: in.AuthTime.UTC(), IdleDeadline: in.IdleDeadline.UTC(),
				Deadline: in.Deadline.UTC(), Remembered: in.Remembered, IP: in.IP, UserAgent: in.UserAgent})
		}
		return rows, nil
	}
	sc, ok := h.Store.(store.Scanner)
	if !ok {
		return nil, noScanner(h, `"sessions ls" without --user`)
	}
	now := time.Now()
	err := sc.Scan(ctx, func(e store.Entry) error {
		if isSession(e, now) {
			rows = append(rows, rowOf(e))
		}
		return nil
	})
	if err != nil {
		return nil, failure(err.Error())
	}
	return rows, nil
}

func cmdSessionsRm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sessions rm")
	st := storeFlag(fs)
	hashes, err := parse(fs, "sessions rm", usageSessions, args, stdout)
	if err != nil {
		return err
	}
	if len(hashes) == 0 {
		return usageError("sessions rm", "no session hash given")
	}
	for i, hash := range hashes {
		hashes[i] = strings.ToLower(hash)
		if !validHash(hashes[i]) {
			return &cliError{msg: fmt.Sprintf("%q is not a session hash", hash), code: exitUsage,
				hints: []string{`a session hash is 64 hex digits, as "keycard sessions ls" prints them`}}
		}
	}
	h, err := openStore(ctx, *st)
	if err != nil {
		return err
	}
	defer h.Close()
	m, err := adminManager(h.Store)
	if err != nil {
		return err
	}
	var missing []string
	for _, hash := range hashes {
		if _, err := h.Store.Load(ctx, hash); errors.Is(err, store.ErrNotFound) {
			missing = append(missing, hash)
			continue
		} else if err != nil {
			return failure(err.Error())
		}
		if err := m.Revoke(ctx, hash); err != nil {
			return failure(err.Error())
		}
		fmt.Fprintf(stdout, "ended session %s\n", hash)
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return failure(fmt.Sprintf("no live session %s", missing[0]), "it may have expired, or ended already")
	}
	return failure(fmt.Sprintf("no live sessions %s", strings.Join(missing, ", ")), "they may have expired, or ended already")
}

func cmdRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("revoke")
	st := storeFlag(fs)
	user := fs.String("user", "", "")
	operands, err := parse(fs, "revoke", usageRevoke, args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(operands) > 0:
		return usageError("revoke", fmt.Sprintf("unexpected argument %q; name the user with --user", operands[0]))
	case *user == "":
		return usageError("revoke", "--user is required")
	}
	h, err := openStore(ctx, *st)
	if err != nil {
		return err
	}
	defer h.Close()
	m, err := adminManager(h.Store)
	if err != nil {
		return err
	}
	n, err := m.RevokeUser(ctx, *user)
	if errors.Is(err, keycard.ErrUnsupported) {
		return failure(fmt.Sprintf("this store has no user index (%s lacks store.UserIndex), so it cannot find a user's sessions", h.URL.Kind))
	}
	if err != nil {
		return failure(err.Error())
	}
	fmt.Fprintf(stdout, "ended %d %s of %s\n", n, plural(n, "session", "sessions"), *user)
	return nil
}

func cmdGC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gc")
	st := storeFlag(fs)
	operands, err := parse(fs, "gc", usageGC, args, stdout)
	if err != nil {
		return err
	}
	if len(operands) > 0 {
		return usageError("gc", fmt.Sprintf("unexpected argument %q", operands[0]))
	}
	h, err := openStore(ctx, *st)
	if err != nil {
		return err
	}
	defer h.Close()
	sw, ok := h.Store.(store.Sweeper)
	switch {
	case !ok && h.NativeExpiry:
		fmt.Fprintf(stdout, "nothing to do: %s expires sessions itself\n", h.URL)
		return nil
	case !ok:
		return failure(fmt.Sprintf("this store cannot sweep (%s has no store.Sweeper)", h.URL.Kind))
	}
	start := time.Now()
	stop := startSpinner(stderr, "sweeping "+h.URL.String())
	n, err := sw.Sweep(ctx)
	stop()
	if err != nil {
		return failure(err.Error())
	}
	fmt.Fprintf(stdout, "deleted %d expired %s from %s in %v\n", n, plural(n, "session", "sessions"), h.URL,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// stats are the counts of keycard stats.
type stats struct {
	Store      string `json:"store"`
	Live       int    `json:"live"`
	SignedIn   int    `json:"signed_in"`
	Anonymous  int    `json:"anonymous"`
	Remembered int    `json:"remembered"`
	Users      int    `json:"users"`
}

// countSessions counts the live sessions sc holds at now.
func countSessions(ctx context.Context, sc store.Scanner, now time.Time) (stats, error) {
	var s stats
	users := map[string]struct{}{}
	err := sc.Scan(ctx, func(e store.Entry) error {
		r := e.Record
		if !isSession(e, now) {
			return nil
		}
		s.Live++
		if r.UserID == "" {
			s.Anonymous++
		} else {
			s.SignedIn++
			users[r.UserID] = struct{}{}
		}
		if r.Persistent {
			s.Remembered++
		}
		return nil
	})
	s.Users = len(users)
	return s, err
}

func cmdStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stats")
	st := storeFlag(fs)
	asJSON := fs.Bool("json", false, "")
	operands, err := parse(fs, "stats", usageStats, args, stdout)
	if err != nil {
		return err
	}
	if len(operands) > 0 {
		return usageError("stats", fmt.Sprintf("unexpected argument %q", operands[0]))
	}
	h, err := openStore(ctx, *st)
	if err != nil {
		return err
	}
	defer h.Close()
	sc, ok := h.Store.(store.Scanner)
	if !ok {
		return noScanner(h, "stats")
	}
	s, err := countSessions(ctx, sc, time.Now())
	if err != nil {
		return failure(err.Error())
	}
	s.Store = h.URL.String()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s\n", s.Store)
	fmt.Fprintf(tw, "live sessions\t%d\n", s.Live)
	fmt.Fprintf(tw, "  signed in\t%d\n", s.SignedIn)
	fmt.Fprintf(tw, "  anonymous\t%d\n", s.Anonymous)
	fmt.Fprintf(tw, "  remembered\t%d\n", s.Remembered)
	fmt.Fprintf(tw, "distinct users\t%d\n", s.Users)
	return tw.Flush()
}

// startSpinner shows a spinner with msg and the elapsed time on w while
// work runs, if w is a terminal, and returns the function that stops it.
func startSpinner(w io.Writer, msg string) (stop func()) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
		start := time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(f, "\r%c %s %.1fs", frames[i%len(frames)], msg, time.Since(start).Seconds())
			select {
			case <-done:
				fmt.Fprint(f, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// isSession reports whether e is a live session: not expired, not a
// rotation tombstone, and keyed by a session hash (stores shared with
// package guard also hold its counters, under other keys).
func isSession(e store.Entry, now time.Time) bool {
	return e.Record.Live(now) && validHash(e.Key) && !keycard.IsTombstone(e.Record)
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range []byte(h) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
