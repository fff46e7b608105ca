package keycard

// flashKey holds pending flash messages.
const flashKey = reservedPrefix + "flash"

// Flash adds a one-time message to the session, to be shown on the next
// page the client loads (typically after a redirect) and then forgotten.
func (s *Session) Flash(msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, _ := get[[]string](s, flashKey)
	raw, err := s.m.cfg.Codec.Marshal(append(msgs, msg))
	if err != nil {
		return err
	}
	return s.putRaw(flashKey, raw)
}

// Flashes returns the pending flash messages, oldest first, and removes
// them from the session.
func (s *Session) Flashes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, _ := get[[]string](s, flashKey)
	s.delete(flashKey)
	return msgs
}
