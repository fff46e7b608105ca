package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/keycard-go/keycard"
	"github.com/keycard-go/keycard/cmd/keycard/internal/storeurl"
	"github.com/keycard-go/keycard/internal/storekit"
	"github.com/keycard-go/keycard/store"
)

// defaultStore is the store of the admin commands when neither --store nor
// $KEYCARD_STORE names one: the demo's database in the current directory.
const defaultStore = "sqlite:keycard-demo.db"

// storeFlag adds --store to fs. An empty --store is a usage error, not
// the default store.
func storeFlag(fs *flag.FlagSet) *string {
	return nonEmptyFlag(fs, "store", "", "a store URL, such as sqlite:keycard-demo.db or postgres://USER@HOST/DB")
}

// nonEmptyFlag adds a string flag to fs, with default value def, that
// refuses an empty value, for which want says what to give instead.
func nonEmptyFlag(fs *flag.FlagSet, name, def, want string) *string {
	v := &nonEmpty{s: def, want: want}
	fs.Var(v, name, "")
	return &v.s
}

type nonEmpty struct{ s, want string }

func (v *nonEmpty) String() string { return v.s }

func (v *nonEmpty) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty; want %s", v.want)
	}
	v.s = s
	return nil
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
		return nil, storeError(u, err)
	}
	return h, nil
}

// storeURLForms lists the forms of store URLs, for hints.
const storeURLForms = "store URLs look like memory:, sqlite:keycard-demo.db, redis://127.0.0.1:6379/0, postgres://USER@HOST/DB, mysql://USER@HOST:3306/DB, memcached://127.0.0.1:11211 or mongodb://127.0.0.1:27017/DB"

// parseStore parses a store URL, with hints for the usual mistakes. A
// malformed URL is a usage error.
func parseStore(raw string) (*storeurl.URL, error) {
	u, err := storeurl.Parse(raw)
	if err != nil {
		hints := []string{storeURLForms}
		if !strings.Contains(raw, ":") && strings.Contains(raw, ".") {
			hints = append([]string{fmt.Sprintf("for a database file, write sqlite:%s", raw)}, hints...)
		}
		return nil, &cliError{msg: err.Error(), hints: hints, code: exitUsage}
	}
	return u, nil
}

// storeError explains a failure to open the store u names, or of an
// operation on it, with a hint that fits its cause.
func storeError(u *storeurl.URL, err error) error {
	switch {
	case errors.Is(err, storeurl.ErrSyntax):
		return &cliError{msg: err.Error(), hints: []string{storeURLForms}, code: exitUsage}
	case errors.Is(err, storeurl.ErrNoDatabase):
		return failure(err.Error(), fmt.Sprintf(`"keycard migrate --store %s" creates it (so does "keycard demo", for its own); or name another store with --store or $KEYCARD_STORE`, u))
	case errors.Is(err, storeurl.ErrNoDirectory):
		return failure(err.Error(), fmt.Sprintf("create the directory first (mkdir -p %s), or choose another path", filepath.Dir(u.Path)))
	case errors.Is(err, storeurl.ErrIsDirectory):
		return failure(err.Error(), fmt.Sprintf("name the database file, as in sqlite:%s", filepath.Join(u.Path, demoDatabase)))
	}
	if h := causeHint(u, storeurl.CauseOf(err)); h != "" {
		return failure(err.Error(), h)
	}
	if errors.Is(err, storeurl.ErrUnavailable) {
		return failure(err.Error(), "check the store URL given with --store or $KEYCARD_STORE")
	}
	return failure(err.Error())
}

// causeHint returns the hint for a failure of the store u names, or "".
func causeHint(u *storeurl.URL, c storeurl.Cause) string {
	switch c {
	case storeurl.CauseRefused:
		return fmt.Sprintf("nothing accepts connections at %s: is the server running, and on that port? Check --store or $KEYCARD_STORE", u.Addr())
	case storeurl.CauseTimeout:
		return fmt.Sprintf("no answer from %s within %v: is the host up and reachable from here, with no firewall in the way?", u.Addr(), storeurl.DefaultTimeout)
	case storeurl.CauseNoRoute:
		return fmt.Sprintf("no route from here to %s: is the host up, and the address right? Check --store or $KEYCARD_STORE", u.Addr())
	case storeurl.CauseNoHost:
		return fmt.Sprintf("the host of %s does not resolve: check the host name in --store or $KEYCARD_STORE", u.Addr())
	case storeurl.CauseAuth:
		return fmt.Sprintf("the server refused user %q: check the user name and password in the store URL, and that the server lets this user connect from here", u.User())
	case storeurl.CauseNoDatabase:
		return fmt.Sprintf("the server has no database %q: create it (CREATE DATABASE %s), or name an existing one in the store URL", u.Database(), u.Database())
	case storeurl.CauseNoTable:
		cmd := "keycard migrate --store " + u.String()
		if u.HasPassword() {
			cmd = "keycard migrate --store URL"
		}
		return fmt.Sprintf("the sessions table does not exist yet: create it with %q", cmd)
	case storeurl.CausePrivilege:
		return fmt.Sprintf("user %q lacks a privilege: grant it SELECT, INSERT, UPDATE and DELETE on the sessions table (and CREATE, for keycard migrate)", u.User())
	case storeurl.CauseNotSQLite:
		return fmt.Sprintf("%s is not an SQLite database: check the path; keycard creates a database only where no file exists", u.Path)
	case storeurl.CauseCorrupt:
		return fmt.Sprintf("the database file %s is corrupt: restore it from a backup, or delete it (with its -wal and -shm files) to start afresh, which ends every session", u.Path)
	case storeurl.CausePermission:
		if u.Kind == storeurl.SQLite {
			return fmt.Sprintf("permission denied: keycard must read and write %s and its directory, where SQLite keeps its -wal and -shm files; check their owner and mode", u.Path)
		}
		return "permission denied: check the permissions of the server's socket"
	case storeurl.CauseReadOnly:
		if u.Kind == storeurl.SQLite {
			return fmt.Sprintf("%s is read-only, or its directory or file system is: keycard writes to the file and, for its -wal and -shm files, the directory", u.Path)
		}
		return "the server is read-only (a replica?): point --store at the primary"
	case storeurl.CauseCantOpen:
		return fmt.Sprintf("SQLite cannot open %s, or create its -wal and -shm files beside it: check that keycard may write to the directory %s", u.Path, filepath.Dir(u.Path))
	}
	return ""
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
	msg := fmt.Sprintf("this store cannot list all sessions (%s has no store.Scanner), which %s needs", h.URL.Kind, what)
	if h.URL.Kind == storeurl.Memcached {
		return failure(msg, `memcached cannot list its items, and the memcached store keeps no list of its sessions; "keycard sessions rm HASH" ends one session by its hash`)
	}
	return failure(msg, `"keycard sessions ls --user USER" lists one user's sessions; memory:, sqlite:, redis://, postgres://, mysql:// and mongodb:// stores can list all`)
}

// noUserIndex explains a store that cannot find a user's sessions, which
// what (a phrase after "so it cannot") needs.
func noUserIndex(h *storeurl.Handle, what string) error {
	msg := fmt.Sprintf("this store has no user index (%s lacks store.UserIndex), so it cannot %s", h.URL.Kind, what)
	if h.URL.Kind == storeurl.Memcached {
		return failure(msg,
			"memcached may evict any item, so a list of a user's sessions could vanish while the sessions stay; the memcached store keeps none rather than a \"log out everywhere\" that could miss sessions and still report success",
			`end sessions one at a time with "keycard sessions rm HASH", or have the application set keycard.Config.RevokedBefore from its user table: a user's sessions older than that time then end at their next request`)
	}
	return failure(msg)
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
	user := nonEmptyFlag(fs, "user", "", "a user ID, as in --user alice")
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
		if errors.Is(err, store.ErrUnsupported) {
			return nil, noUserIndex(h, "list a user's sessions")
		}
		if err != nil {
			return nil, storeError(h.URL, err)
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
		return nil, storeError(h.URL, err)
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
		if !storekit.ValidHash(hashes[i]) {
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
			return storeError(h.URL, err)
		}
		if err := m.Revoke(ctx, hash); err != nil {
			return storeError(h.URL, err)
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
	user := nonEmptyFlag(fs, "user", "", "a user ID, as in --user alice")
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
	if errors.Is(err, store.ErrUnsupported) {
		return noUserIndex(h, "find a user's sessions")
	}
	if err != nil {
		return storeError(h.URL, err)
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
		return storeError(h.URL, err)
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
		return storeError(h.URL, err)
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

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate")
	st := storeFlag(fs)
	operands, err := parse(fs, "migrate", usageMigrate, args, stdout)
	if err != nil {
		return err
	}
	if len(operands) > 0 {
		return usageError("migrate", fmt.Sprintf("unexpected argument %q; name the store with --store", operands[0]))
	}
	raw := *st
	if raw == "" {
		raw = os.Getenv("KEYCARD_STORE")
	}
	if raw == "" {
		return usageError("migrate", "migrate needs a store: give --store URL, or set $KEYCARD_STORE")
	}
	u, err := parseStore(raw)
	if err != nil {
		return err
	}
	switch u.Kind {
	case storeurl.Memory:
		fmt.Fprintf(stdout, "nothing to migrate: %s keeps sessions in memory, with no schema\n", u)
		return nil
	case storeurl.Redis:
		fmt.Fprintf(stdout, "nothing to migrate: %s keeps sessions as Redis keys, with no schema\n", u)
		return nil
	case storeurl.Memcached:
		fmt.Fprintf(stdout, "nothing to migrate: %s keeps sessions as memcached items, with no schema\n", u)
		return nil
	}
	m, err := storeurl.Migrate(ctx, u, storeurl.Options{})
	if err != nil {
		return storeError(u, err)
	}
	if u.Kind == storeurl.MongoDB {
		if m.Created {
			fmt.Fprintf(stdout, "created collection %s and its indexes in %s\n", m.Table, u)
		} else {
			fmt.Fprintf(stdout, "%s is up to date: collection %s and its indexes exist\n", u, m.Table)
		}
		if m.NoTTL {
			fmt.Fprintln(stdout, `the server has no TTL indexes (FerretDB 1.x): expired sessions stay until "keycard gc" deletes them; run it now and then`)
		}
		return nil
	}
	switch {
	case m.NewFile:
		fmt.Fprintf(stdout, "created %s with table %s and its indexes\n", u, m.Table)
	case m.Created:
		fmt.Fprintf(stdout, "created table %s and its indexes in %s\n", m.Table, u)
	default:
		fmt.Fprintf(stdout, "%s is up to date: table %s and its indexes exist\n", u, m.Table)
	}
	return nil
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
	return e.Record.Live(now) && storekit.ValidHash(e.Key) && !keycard.IsTombstone(e.Record)
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
