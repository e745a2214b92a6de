package ingest

import (
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/value"
)

func TestDecodeVMJSON(t *testing.T) {
	f := func(name, in, want string) {
		t.Run(name, func(t *testing.T) {
			req := DecodeVMJSON([]byte(in))
			checkImport(t, req)
			if got := render(req); got != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	f("empty", "", "")
	f("lines", `{"metric":{"__name__":"up","job":"a","instance":"h:9100"},"values":[1,0.5],"timestamps":[1700000000000,1700000015000]}

{"metric":{"__name__":"x","empty":""},"values":["NaN","+Inf",-1e3],"timestamps":[1,2,3]}
  {"values":[2],"timestamps":[-5],"metric":{"__name__":"é"},"unknown":true}
`, `{__name__="up", instance="h:9100", job="a"} 1700000000000 1
{__name__="up", instance="h:9100", job="a"} 1700000015000 0.5
{__name__="x"} 1 NaN
{__name__="x"} 2 +Inf
{__name__="x"} 3 -1000
{__name__="é"} -5 2
`)
	f("errors name the line", `{"metric":{"__name__":"ok"},"values":[1],"timestamps":[1]}
{"metric":{"__name__":"a"},"values":[1,2],"timestamps":[1]}
{"metric":{},"values":[1],"timestamps":[1]}
{"values":[1],"timestamps":[1]}
{"metric":{"__name__":"a"},"values":[],"timestamps":[]}
{"metric":{"__name__":"a"},"values":[1],"timestamps":[1.5]}
{"metric":{"__name__":"a"},"values":[true],"timestamps":[1]}
{"metric":{"__name__":"a"},"values":["x"],"timestamps":[1]}
{"metric":{"__name__":"a"},"values":[1] "timestamps":[1]}
{"metric":{"__name__":1},"values":[1],"timestamps":[1]}
not json
{"metric":{"__name__":"ok2"},"values":[2],"timestamps":[2]}
`, `{__name__="ok"} 1 1
{__name__="ok2"} 2 2
! line 2: 2 values but 1 timestamps
! line 3: missing or empty "metric" object
! line 4: missing or empty "metric" object
! line 5: missing "values" and "timestamps"
! line 6: timestamp 0: 1.5 is not an integer of milliseconds
! line 7: invalid value true
! line 8: invalid value "x"
! line 9, column 41: invalid character '"' after object key:value pair
! line 10: json: cannot unmarshal number into Go struct field vmLine.metric of type string
! line 11, column 2: invalid character 'o' in literal null (expecting 'u')
`)
}

// TestVMJSONNaNAndStale: null is a staleness marker and "NaN" a NaN
// value, as almanac's export writes them, so an export imports back.
func TestVMJSONNaNAndStale(t *testing.T) {
	req := DecodeVMJSON([]byte(`{"metric":{"__name__":"x"},"values":[1,"NaN",null],"timestamps":[1,2,3]}` + "\n"))
	if len(req.Invalid) != 0 || len(req.Series) != 1 || len(req.Series[0].Samples) != 3 {
		t.Fatalf("decoded %+v", req)
	}
	smp := req.Series[0].Samples
	if !math.IsNaN(smp[1].V) || value.IsStaleNaN(smp[1].V) {
		t.Errorf(`"NaN" decoded as %x, want a NaN that is not a staleness marker`, math.Float64bits(smp[1].V))
	}
	if !value.IsStaleNaN(smp[2].V) {
		t.Errorf("null decoded as %x, want the staleness marker", math.Float64bits(smp[2].V))
	}
}
