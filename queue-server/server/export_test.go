package server

import (
	"os"

	"hallq/queue-server/api"
)

var (
	osStat        = os.Stat
	readFile      = os.ReadFile
	apiOpRoles    = api.OpRoles
	apiHTTPStatus = api.HTTPStatus
)
