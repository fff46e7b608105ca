package mongodb

// ForceAtomic makes s write with one conditional command per call, as it
// does on MongoDB, whatever server it talks to. On FerretDB 1.x that is
// correct only without concurrent writers of a key.
func ForceAtomic(s *Store) {
	s.modeMu.Lock()
	defer s.modeMu.Unlock()
	s.mode = modeAtomic
}

// ForceLocks makes s serialize its writes with lock documents, as it does
// on FerretDB 1.x, whatever server it talks to.
func ForceLocks(s *Store) {
	s.modeMu.Lock()
	defer s.modeMu.Unlock()
	s.mode = modeLocks
}

// LockLease is how old a lock must be before a writer takes it over.
const LockLease = lockLease
