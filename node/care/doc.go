// Package care holds the coop's private registry: beneficiaries, caregivers
// and terminals. Every read and change goes through Service, which checks the
// actor's role and ownership and writes the audit log. Nothing here is ever
// handed to federation.
package care
