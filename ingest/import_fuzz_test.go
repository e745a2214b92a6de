package ingest

import "testing"

// FuzzDecodePrometheus: any body, in either exposition format, decodes to
// a consistent request, never a panic.
func FuzzDecodePrometheus(f *testing.F) {
	f.Add([]byte("# HELP up Up.\n# TYPE up gauge\nup{job=\"a\",instance=\"b:9100\"} 1 1700000000000\nnode_load1 0.5\n"), false)
	f.Add([]byte("a{b=\"c\\\\\\n\\\"\"} +Inf\n{\"my.metric\"} NaN 1\nbad{ 2\n"), false)
	f.Add([]byte("# TYPE foo counter\nfoo_total{a=\"b\"} 17.0 1520879607.789 # {trace_id=\"x\"} 0.67 1520879602\n# EOF\n"), true)
	f.Add([]byte("a 1\n# EOF\nb 2"), true)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, data []byte, om bool) {
		format := PrometheusText
		if om {
			format = OpenMetrics
		}
		checkImport(t, DecodePrometheus(data, format, 1700000000000))
	})
}

// FuzzDecodeInflux: any body, at any precision, decodes to a consistent
// request, never a panic.
func FuzzDecodeInflux(f *testing.F) {
	f.Add([]byte("cpu,host=a,cpu=cpu0 usage_user=12.5,usage_idle=80i,up=true 1700000000000000000\n# comment\n\n"), "")
	f.Add([]byte("my\\ meas\\,ure,tag\\ key=va\\,l\\=ue f\\=ld=1u,s=\"a \\\"q\\\" b\" 5\n"), "ms")
	f.Add([]byte("m v=1 9223372036854775807\nm v=\nm,t v=1\nm v=\"open\n"), "h")
	f.Add([]byte("temp value=21.5 1700000000\r\n"), "s")
	f.Fuzz(func(t *testing.T, data []byte, precision string) {
		req, err := DecodeInflux(data, InfluxOptions{Precision: precision, DB: "db", Now: 1700000000000})
		if err != nil {
			return
		}
		checkImport(t, req)
	})
}

// FuzzDecodeVMJSON: any body decodes to a consistent request, never a
// panic.
func FuzzDecodeVMJSON(f *testing.F) {
	f.Add([]byte(`{"metric":{"__name__":"up","job":"a"},"values":[1,0.5],"timestamps":[1700000000000,1700000015000]}` + "\n"))
	f.Add([]byte(`{"metric":{"__name__":"x"},"values":["NaN","+Inf",null],"timestamps":[1,2,3.5]}` + "\n{\n"))
	f.Add([]byte(`{"metric":{},"values":[],"timestamps":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkImport(t, DecodeVMJSON(data))
	})
}

// FuzzDecodeCSV: any format and body give an error or a consistent
// request, never a panic.
func FuzzDecodeCSV(f *testing.F) {
	f.Add("1:label:job,2:metric:up,3:time:unix_s", []byte("api,1,1700000000\n\"w,eb\",0,1700000000.5\nx,bad,1\n"))
	f.Add("2:metric:ask,3:metric:bid,1:label:ticker,4:label:market", []byte("GOOG,1.23,4.56,NYSE\nMSFT,3.21,1.67,NASDAQ\n"))
	f.Add("1:time:rfc3339,2:metric:m", []byte("2023-11-14T22:13:20.5Z,2\n\"open\n"))
	f.Add("1:time:unix_ns,2:metric:m", []byte("1700000000123999999,2\n,\n"))
	f.Add("1:time:custom:2006-01-02 15:04:05,2:metric:m", []byte("2023-11-14 22:13:20,\"2\"\"\"\n"))
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		cf, err := ParseCSVFormat(format)
		if err != nil {
			return
		}
		checkImport(t, DecodeCSV(data, cf, 1700000000000))
	})
}
