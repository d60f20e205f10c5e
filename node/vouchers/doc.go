// Package vouchers keeps municipal economic support ("sostegni
// economici", WeMi's vouchers) as signed credentials (schema.Voucher):
// an authority node issues a voucher for a citizen's wallet and hands it
// privately to the citizen's home node over /difronte/voucher/1; the
// provider the citizen pays with it verifies it and redeems it with the
// authority, which records one redemption per voucher, so a voucher
// cannot be spent twice; a revoked or expired one is refused. Nothing of
// it is gossiped. A wallet id is an opaque id the home node gives a
// citizen account: the authority and the provider see only that.
package vouchers
