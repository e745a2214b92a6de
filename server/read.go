package server

import (
	"net/http"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/storage/remote"
)

// Remote-read limits: the samples one sampled response may hold, the
// requests served at once, and the size of one frame of a streamed
// response (Prometheus's defaults).
const (
	remoteReadSampleLimit      = 50_000_000
	remoteReadConcurrencyLimit = 10
	remoteReadMaxFrameBytes    = 1 << 20
)

// readHandler serves remote read, sampled and streamed (chunked) responses,
// with Prometheus's own handler on almanac storage, so that a Prometheus
// configured with remote_read gets almanac's data.
func (s *Server) readHandler() http.HandlerFunc {
	h := remote.NewReadHandler(s.logger, tolerantRegisterer{s.cfg.Registry, s.logger}, s.storage,
		func() config.Config { return config.DefaultConfig },
		remoteReadSampleLimit, remoteReadConcurrencyLimit, remoteReadMaxFrameBytes)
	return h.ServeHTTP
}
