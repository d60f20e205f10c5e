package members

import (
	"bytes"
	"strings"
)

// logBridge turns memberlist's log lines ("[LEVEL] memberlist: text")
// into slog records at debug level, with memberlist's own level under
// memberlist_level (slog's "level" is the record's): memberlist is chatty
// and its warnings are mostly about peers, not actionable by the coop. It
// also counts the
// lines that mark suspicions and refutations, which memberlist reports no
// other way (no delegate hook); the texts are those of memberlist v0.7.0,
// and TestFailureDetection fails if they stop matching.
type logBridge struct{ m *Members }

func (b *logBridge) Write(p []byte) (int, error) {
	line := string(bytes.TrimRight(p, "\n"))
	level, text := "", line
	if strings.HasPrefix(line, "[") {
		if end := strings.IndexByte(line, ']'); end > 0 {
			level, text = line[1:end], strings.TrimSpace(line[end+1:])
		}
	}
	text = strings.TrimPrefix(text, "memberlist: ")
	b.count(text)
	b.m.log.Debug("memberlist", "memberlist_level", level, "text", text)
	return len(p), nil
}

func (b *logBridge) count(text string) {
	switch {
	case strings.HasPrefix(text, "Suspect ") && strings.HasSuffix(text, " has failed, no acks received"):
		name := strings.TrimSuffix(strings.TrimPrefix(text, "Suspect "), " has failed, no acks received")
		b.m.mu.Lock()
		b.m.stats.Suspected++
		if mem, ok := b.m.members[name]; ok {
			mem.Suspicions++
		}
		b.m.mu.Unlock()
	case strings.HasPrefix(text, "Refuting a suspect message"), strings.HasPrefix(text, "Refuting a dead message"):
		b.m.mu.Lock()
		b.m.stats.Refuted++
		b.m.mu.Unlock()
	}
}
