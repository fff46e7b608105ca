package sqlite

import (
	"database/sql"
	"runtime"
	"sync"
	"weak"
)

// A gate admits one write at a time. Every Store on one *sql.DB shares
// the DB's gate. SQLite lets one connection write to a database at a
// time; queueing the writers of one *sql.DB here, where a waiting writer
// honours its context and is admitted as soon as the previous write ends,
// keeps them from polling SQLite's lock through its busy handler, which
// sleeps 1, 2, 5, 10 ms and longer between tries. The busy handler is left
// for writers of other *sql.DBs and other processes.
type gate chan struct{}

// gates maps each *sql.DB that has a Store to its gate. An entry goes away
// when its *sql.DB is garbage.
var gates struct {
	mu sync.Mutex
	m  map[weak.Pointer[sql.DB]]gate
}

// gateFor returns the gate of db, making it on first use.
func gateFor(db *sql.DB) gate {
	gates.mu.Lock()
	defer gates.mu.Unlock()
	wp := weak.Make(db)
	if g, ok := gates.m[wp]; ok {
		return g
	}
	if gates.m == nil {
		gates.m = make(map[weak.Pointer[sql.DB]]gate)
	}
	g := make(gate, 1)
	gates.m[wp] = g
	runtime.AddCleanup(db, func(wp weak.Pointer[sql.DB]) {
		gates.mu.Lock()
		defer gates.mu.Unlock()
		delete(gates.m, wp)
	}, wp)
	return g
}
