// Package webui serves the node's server-rendered pages (templates, static
// assets and message catalogues from web/) on the API's router.
package webui

import (
	"log/slog"

	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalog"
)

// Deps are what the pages show and change.
type Deps struct {
	Auth   *auth.Service
	Care   *care.Service
	Own    *catalog.Own
	Audit  *audit.Log
	Info   func() api.NodeInfo
	Logger *slog.Logger
}

// Mount adds the web UI's routes to the server's router.
func Mount(s *api.Server, d Deps) {}
