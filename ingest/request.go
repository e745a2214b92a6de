package ingest

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// Sample is one float sample: timestamp T in milliseconds since the epoch,
// value V, and start timestamp ST (0 when the sender gave none).
type Sample struct {
	T  int64
	V  float64
	ST int64
}

// Series is one series of a request and its samples, in the order the
// sender gave them.
type Series struct {
	Labels  labels.Labels // sorted by name; validity is the store's business
	Samples []Sample
}

// Request is a decoded write request.
type Request struct {
	// Series holds every series with at least one float sample. A series
	// may appear more than once if the sender repeated it.
	Series []Series
	// Samples is the number of float samples in Series.
	Samples int
	// Dropped lists series, or samples of series, the decoder refused
	// while keeping the rest. Each is a *SeriesError.
	Dropped []*SeriesError
	// Exemplars is the number of exemplars in the request. They are not
	// stored and are counted only so a caller can report them.
	Exemplars int
	// Metadata is the metric family metadata the request carries (remote
	// write 1.0's metadata list, 2.0's per-series metadata).
	Metadata []Metadata

	// The fields below are set only by the text import decoders.

	// Invalid lists the first lines of an import body that could not be
	// parsed (at most MaxListedLines), in order; every other line is in
	// Series. InvalidLines counts them all.
	Invalid      []*LineError
	InvalidLines int
	// Ignored counts values that are valid in the import format but that
	// almanac does not store, by what they are ("exemplars", "string
	// fields", ...). It is nil when there were none.
	Ignored map[string]int
}

// DroppedSamples is the number of samples listed in r.Dropped.
func (r *Request) DroppedSamples() int {
	n := 0
	for _, d := range r.Dropped {
		n += d.Samples
	}
	return n
}

// Protocol is a remote-write protocol version.
type Protocol int

// The remote-write protocols ingest decodes.
const (
	// RemoteWriteV1 is remote write 1.0: a prometheus.WriteRequest.
	RemoteWriteV1 Protocol = 1
	// RemoteWriteV2 is remote write 2.0: an io.prometheus.write.v2.Request.
	RemoteWriteV2 Protocol = 2
)

func (p Protocol) String() string {
	switch p {
	case RemoteWriteV1:
		return "remote write 1.0 (prometheus.WriteRequest)"
	case RemoteWriteV2:
		return "remote write 2.0 (io.prometheus.write.v2.Request)"
	}
	return fmt.Sprintf("protocol(%d)", int(p))
}

// Content types and message names of the remote-write specifications.
const (
	protobufMediaType = "application/x-protobuf"
	messageV1         = "prometheus.WriteRequest"
	messageV2         = "io.prometheus.write.v2.Request"

	// ContentTypeV1 is the Content-Type a remote write 1.0 sender sets.
	ContentTypeV1 = protobufMediaType
	// ContentTypeV2 is the Content-Type a remote write 2.0 sender sets.
	ContentTypeV2 = protobufMediaType + ";proto=" + messageV2
)

// ParseContentType returns the protocol of a remote-write request from its
// Content-Type and Content-Encoding headers, as the remote-write
// specifications define them: application/x-protobuf alone (or empty, as
// old senders send) is 1.0, a proto parameter names the message, and the
// only encoding is snappy. Anything else is ErrUnsupportedMediaType.
func ParseContentType(contentType, contentEncoding string) (Protocol, error) {
	if enc := strings.TrimSpace(contentEncoding); enc != "" && !strings.EqualFold(enc, "snappy") {
		return 0, fmt.Errorf("%w: content encoding %q, only snappy is accepted", ErrUnsupportedMediaType, enc)
	}
	if strings.TrimSpace(contentType) == "" {
		return RemoteWriteV1, nil
	}
	parts := strings.Split(contentType, ";")
	if media := strings.TrimSpace(parts[0]); !strings.EqualFold(media, protobufMediaType) {
		return 0, fmt.Errorf("%w: content type %q, want %q (remote write 1.0) or %q (remote write 2.0)",
			ErrUnsupportedMediaType, contentType, ContentTypeV1, ContentTypeV2)
	}
	for _, param := range parts[1:] {
		key, value, ok := strings.Cut(strings.TrimSpace(param), "=")
		if !ok {
			return 0, fmt.Errorf("%w: content type %q: parameter %q is not key=value", ErrUnsupportedMediaType, contentType, param)
		}
		if !strings.EqualFold(strings.TrimSpace(key), "proto") {
			continue
		}
		switch strings.Trim(strings.TrimSpace(value), `"`) {
		case messageV1:
			return RemoteWriteV1, nil
		case messageV2:
			return RemoteWriteV2, nil
		default:
			return 0, fmt.Errorf("%w: content type %q: unknown message %q, want %s or %s",
				ErrUnsupportedMediaType, contentType, value, messageV1, messageV2)
		}
	}
	return RemoteWriteV1, nil
}

// Metadata describes a metric family: its type in Prometheus's lower-case
// names (counter, gauge, histogram, gaugehistogram, summary, info,
// stateset, unknown), help text and unit.
type Metadata struct {
	Metric, Type, Help, Unit string
}
