package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/difronte/difronte/federation/stream"
	"github.com/difronte/difronte/schema"
)

// Vouchers (municipal economic support, schema.Voucher) travel over this
// stream protocol, never over gossip: the authority delivers a voucher to
// the citizen's home node ("deliver"), and the provider that the citizen
// paid with it redeems it with the authority ("redeem"), which answers
// once per voucher; a second redemption, a revoked or an expired voucher
// is refused. One exchange per stream, as for applications: a 4-byte
// big-endian length and a JSON object each way.
const VoucherProtocolID protocol.ID = "/difronte/voucher/1"

// Voucher operations.
const (
	VoucherDeliver = "deliver" // authority → citizen's home node
	VoucherRedeem  = "redeem"  // provider → authority
)

const (
	// maxVoucherFrame fits a maximal credential and a few short fields.
	maxVoucherFrame = schema.MaxCredentialSize + 4<<10
	voucherDeadline = 20 * time.Second
)

// VoucherRequest is the one request frame of an exchange.
type VoucherRequest struct {
	Op    string `json:"op"`
	Token string `json:"token"`
	// Redeem only: the provider's case the voucher pays for (an id of the
	// provider's, opaque to the authority) and the amount taken, at most
	// the voucher's.
	Case        string `json:"case,omitempty"`
	AmountCents int64  `json:"amount_cents,omitempty"`
}

// VoucherResponse is the one response frame.
type VoucherResponse struct {
	Error string `json:"error,omitempty"` // refusal reason code
	// Redeem only: when the authority recorded the redemption.
	Redeemed time.Time `json:"redeemed,omitzero"`
}

// VoucherHandler is a node's side of the protocol; node/vouchers
// implements it. from is the remote peer, authenticated by the connection.
type VoucherHandler interface {
	HandleVoucher(ctx context.Context, from peer.ID, req VoucherRequest) VoucherResponse
}

// ErrVoucherRefused wraps a refusal the other node answered with.
var ErrVoucherRefused = errors.New("voucher refused")

var voucherExchange = stream.Exchange{Protocol: VoucherProtocolID, Name: "voucher",
	MaxRequest: maxVoucherFrame, MaxResponse: 4 << 10, Timeout: voucherDeadline}

// ServeVoucher answers the voucher protocol on h with handler. A request
// that cannot be read or decoded is answered with a refusal.
func ServeVoucher(h host.Host, handler VoucherHandler) func() {
	refuse := func(err error) VoucherResponse { return VoucherResponse{Error: "bad_request: " + err.Error()} }
	return voucherExchange.Serve(h, func(ctx context.Context, from peer.ID, b []byte) ([]byte, error) {
		var req VoucherRequest
		var resp VoucherResponse
		if err := DecodeVoucherRequest(b, &req); err != nil {
			resp = refuse(err)
		} else {
			resp = handler.HandleVoucher(ctx, from, req)
		}
		return stream.MarshalJSON(resp, voucherExchange.MaxResponse)
	}, func(err error) []byte {
		b, _ := stream.MarshalJSON(refuse(err), voucherExchange.MaxResponse)
		return b
	})
}

// DecodeVoucherRequest decodes a request strictly and checks its form.
func DecodeVoucherRequest(b []byte, req *VoucherRequest) error {
	if err := stream.UnmarshalJSON(b, maxVoucherFrame, req); err != nil {
		return err
	}
	switch {
	case req.Op != VoucherDeliver && req.Op != VoucherRedeem:
		return fmt.Errorf("unknown op %q", req.Op)
	case req.Token == "" || len(req.Token) > schema.MaxCredentialSize:
		return errors.New("token missing or too large")
	case req.Op == VoucherRedeem && (req.Case == "" || len(req.Case) > 100 || req.AmountCents < 1 || req.AmountCents > schema.MaxVoucherCents):
		return errors.New("redeem needs a case id (at most 100 bytes) and an amount")
	case req.Op == VoucherDeliver && (req.Case != "" || req.AmountCents != 0):
		return errors.New("deliver carries only the token")
	}
	return nil
}

// SendVoucher runs one exchange with the node at p.
func SendVoucher(ctx context.Context, h host.Host, p peer.ID, req VoucherRequest) (VoucherResponse, error) {
	var resp VoucherResponse
	b, err := stream.MarshalJSON(req, maxVoucherFrame)
	if err != nil {
		return resp, fmt.Errorf("send voucher to %s: %w", p, err)
	}
	if b, err = voucherExchange.Call(ctx, h, p, b); err != nil {
		return resp, err
	}
	if err := stream.UnmarshalJSON(b, voucherExchange.MaxResponse, &resp); err != nil {
		return resp, fmt.Errorf("read answer of %s: %w", p, err)
	}
	if resp.Error != "" {
		return resp, fmt.Errorf("%w: %s", ErrVoucherRefused, resp.Error)
	}
	return resp, nil
}
