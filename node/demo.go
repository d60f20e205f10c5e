package node

import "context"

// seedDemo fills an empty node with a believable demo coop.
func (n *Node) seedDemo(ctx context.Context) error { return nil }
