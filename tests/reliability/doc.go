// Package reliability holds Keycard's fault, overload, cross-instance and
// soak tests. It is a test-only module: the package itself is empty, and
// every test drives keycard.Manager's Handler in process over a real store
// (memory, SQLite, PostgreSQL, MySQL/MariaDB, Redis), with faults injected
// by a private redis-server process, a TCP proxy written in the tests, a
// killed child process, or a slow store wrapper. docs/RELIABILITY.md lists
// each fault, what Keycard does, the test that shows it and the figures it
// measured.
package reliability
