package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keycard-go/keycard/cmd/keycard/internal/storeurl"
)

// TestCauseHints checks that every cause of a store failure has a hint
// of its own, for each kind of store it can happen to, and that none
// shows a password.
func TestCauseHints(t *testing.T) {
	causes := []storeurl.Cause{
		storeurl.CauseRefused, storeurl.CauseTimeout, storeurl.CauseNoHost, storeurl.CauseNoRoute,
		storeurl.CauseAuth, storeurl.CauseNoDatabase, storeurl.CauseNoTable, storeurl.CausePrivilege,
		storeurl.CauseNotSQLite, storeurl.CauseCorrupt, storeurl.CausePermission, storeurl.CauseReadOnly,
		storeurl.CauseCantOpen,
	}
	u, err := storeurl.Parse("postgres://app:hunter2secret@db:5432/sessions")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]storeurl.Cause{}
	for _, c := range causes {
		h := causeHint(u, c)
		if h == "" {
			t.Errorf("cause %d has no hint", c)
		}
		if strings.Contains(h, "hunter2secret") {
			t.Errorf("cause %d: the hint shows the password: %s", c, h)
		}
		if strings.Contains(h, "migrate --store postgres") {
			t.Errorf("cause %d: the hint shows the URL of a password: %s", c, h)
		}
		if other, ok := seen[h]; ok {
			t.Errorf("causes %d and %d share the hint %q", other, c, h)
		}
		seen[h] = c
	}
	if h := causeHint(u, storeurl.CauseUnknown); h != "" {
		t.Errorf("an unknown cause has the hint %q", h)
	}
	lite, _ := storeurl.Parse("sqlite:/srv/keycard/s.db")
	for _, c := range []storeurl.Cause{storeurl.CauseNotSQLite, storeurl.CauseCorrupt, storeurl.CausePermission, storeurl.CauseReadOnly, storeurl.CauseCantOpen, storeurl.CauseNoTable} {
		if h := causeHint(lite, c); !strings.Contains(h, "/srv/keycard") && !strings.Contains(h, "sqlite:/srv/keycard/s.db") {
			t.Errorf("cause %d: the hint does not name the file: %s", c, h)
		}
	}
}

// TestStoreErrorCodes checks the exit codes of store failures: 2 for a
// store URL the driver refuses, 1 for the rest.
func TestStoreErrorCodes(t *testing.T) {
	u, _ := storeurl.Parse("memory:")
	for _, tt := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("%w: mysql://x: bad DSN", storeurl.ErrSyntax), exitUsage},
		{fmt.Errorf("%w sqlite:x.db", storeurl.ErrNoDatabase), exitFailure},
		{fmt.Errorf("%w x: boom", storeurl.ErrUnavailable), exitFailure},
		{errors.New("boom"), exitFailure},
	} {
		var ce *cliError
		if !errors.As(storeError(u, tt.err), &ce) || ce.code != tt.code {
			t.Errorf("%v: got %+v, want exit %d", tt.err, ce, tt.code)
		}
	}
}
