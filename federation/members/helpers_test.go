package members_test

import (
	"bytes"
	"fmt"

	"github.com/difronte/difronte/federation/members"
)

var (
	key1 = bytes.Repeat([]byte{1}, 32)
	key2 = bytes.Repeat([]byte{2}, 32)
)

// view returns what m knows about name.
func view(m *members.Members, name string) (members.Member, bool) {
	for _, mem := range m.Members() {
		if mem.Name == name {
			return mem, true
		}
	}
	return members.Member{}, false
}

func onlineCount(m *members.Members) int {
	n := 0
	for _, mem := range m.Members() {
		if mem.Online {
			n++
		}
	}
	return n
}

func nodeName(i int) string { return fmt.Sprintf("node-%03d", i) }
