package server

import (
	"net/http"
	"runtime"
	"runtime/debug"
)

// buildInfo is the data of /api/v1/status/buildinfo, in Prometheus's shape.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

func (s *Server) handleBuildInfo(w http.ResponseWriter, _ *http.Request) {
	info := buildInfo{Version: s.cfg.Version, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				info.Revision = kv.Value
			case "vcs.time":
				info.BuildDate = kv.Value
			}
		}
	}
	s.respond(w, info, nil, "")
}

// handleMetadata answers that no metric metadata is known: almanac does
// not store it yet.
func (s *Server) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	s.respond(w, struct{}{}, nil, "")
}

// handleExemplars answers that no exemplars are known: almanac does not
// store them yet. Grafana asks for them when exemplars are switched on.
func (s *Server) handleExemplars(w http.ResponseWriter, _ *http.Request) {
	s.respond(w, []struct{}{}, nil, "")
}
