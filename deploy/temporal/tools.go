//go:build tools

// Package tools pins the Temporal server and its SQL tool to one version:
// deploy/temporal/build.sh builds both from this module into a per-user cache.
package tools

import (
	_ "go.temporal.io/server/cmd/server"
	_ "go.temporal.io/server/cmd/tools/sql"
)
