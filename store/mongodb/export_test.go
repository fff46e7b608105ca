package mongodb

// ForceAtomic makes s write with one conditional command per call, as it
// does on MongoDB, whatever server it talks to. On FerretDB 1.x that is
// correct only without concurrent writers of a key.
func ForceAtomic(s *Store) {
	s.modeMu.Lock()
	defer s.modeMu.Unlock()
	s.mode = modeAtomic
}
