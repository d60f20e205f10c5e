package stream

import (
	"context"
	"fmt"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Exchange is a request/response protocol: one stream carries one request
// and one answer. The requester closes its side after the request; the
// server answers and closes.
type Exchange struct {
	Protocol protocol.ID
	// Name names the protocol in errors ("apply").
	Name string
	// Framing defaults to Frames.
	Framing Framing
	// MaxRequest bounds the request; zero means the exchange has no
	// request: the server answers as soon as the stream opens.
	MaxRequest  int
	MaxResponse int
	// Timeout bounds the whole exchange on both sides.
	Timeout time.Duration
}

// Handler answers one request from an authenticated peer. It must not
// block for long: the exchange's timeout runs. An error resets the stream
// instead of answering.
type Handler func(ctx context.Context, from peer.ID, req []byte) ([]byte, error)

func (x Exchange) framing() Framing {
	if x.Framing == nil {
		return Frames
	}
	return x.Framing
}

// Serve answers the protocol on h. A request that cannot be read (too
// large, cut short) is answered with refuse(err) when refuse is set, and
// resets the stream otherwise; so do a handler's error and an answer over
// MaxResponse. The
// returned function stops serving.
func (x Exchange) Serve(h host.Host, handle Handler, refuse func(error) []byte) (stop func()) {
	h.SetStreamHandler(x.Protocol, func(s network.Stream) { x.serve(s, handle, refuse) })
	return func() { h.RemoveStreamHandler(x.Protocol) }
}

func (x Exchange) serve(s network.Stream, handle Handler, refuse func(error) []byte) {
	defer s.Close()
	_ = s.SetDeadline(clock.Deadline(x.Timeout))
	var resp []byte
	req, err := x.readRequest(s)
	switch {
	case err != nil && refuse == nil:
	case err != nil:
		resp, err = refuse(err), nil
	default:
		ctx, cancel := context.WithTimeout(context.Background(), x.Timeout)
		resp, err = handle(ctx, s.Conn().RemotePeer(), req)
		cancel()
	}
	if err == nil {
		err = x.framing().write(s, resp, x.MaxResponse)
	}
	if err != nil {
		_ = s.Reset()
	}
}

func (x Exchange) readRequest(s network.Stream) ([]byte, error) {
	if x.MaxRequest == 0 {
		return nil, nil
	}
	return x.framing().read(s, x.MaxRequest)
}

// Call runs one exchange with p and returns the answer. A request over
// MaxRequest fails before any stream opens.
func (x Exchange) Call(ctx context.Context, h host.Host, p peer.ID, req []byte) ([]byte, error) {
	if len(req) > x.MaxRequest {
		return nil, fmt.Errorf("%s request to %s: %w", x.Name, p, &SizeError{Size: uint64(len(req)), Limit: x.MaxRequest})
	}
	ctx, cancel := context.WithTimeout(ctx, x.Timeout)
	defer cancel()
	s, err := h.NewStream(ctx, p, x.Protocol)
	if err != nil {
		return nil, fmt.Errorf("open %s stream to %s: %w", x.Name, p, err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	if x.MaxRequest > 0 {
		if err := x.framing().write(s, req, x.MaxRequest); err != nil {
			_ = s.Reset()
			return nil, fmt.Errorf("send %s request to %s: %w", x.Name, p, err)
		}
		_ = s.CloseWrite()
	}
	resp, err := x.framing().read(s, x.MaxResponse)
	if err != nil {
		_ = s.Reset()
		return nil, fmt.Errorf("read %s answer from %s: %w", x.Name, p, err)
	}
	return resp, nil
}
