package storage

import (
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestMetadata records metadata variants, checks limits, the cap of
// variants per metric, that empty entries are ignored, and that it all
// survives a reopen.
func TestMetadata(t *testing.T) {
	fs := vfs.NewMem()
	db, err := Open("db", Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	up := Metadata{Metric: "up", Type: "gauge", Help: "1 if the target is up."}
	reqs := Metadata{Metric: "http_requests_total", Type: "counter", Help: "Requests.", Unit: ""}
	reqs2 := Metadata{Metric: "http_requests_total", Type: "counter", Help: "Requests served."}
	if err := db.SetMetadata([]Metadata{up, reqs, up, {Metric: "empty"}, {Type: "gauge"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMetadata([]Metadata{reqs2}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]Metadata{"up": {up}, "http_requests_total": {reqs2, reqs}}
	check := func(when string) {
		t.Helper()
		if got := db.Metadata("", -1, -1); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %v, want %v", when, got, want)
		}
		if got := db.Metadata("up", -1, -1); !reflect.DeepEqual(got, map[string][]Metadata{"up": {up}}) {
			t.Fatalf("%s: metric=up gave %v", when, got)
		}
		if got := db.Metadata("", 1, -1); len(got) != 1 {
			t.Fatalf("%s: limit 1 gave %v", when, got)
		}
		if got := db.Metadata("", -1, 1); !reflect.DeepEqual(got["http_requests_total"], []Metadata{reqs2}) {
			t.Fatalf("%s: limit_per_metric 1 gave %v", when, got)
		}
		if got := db.Metadata("", 0, -1); len(got) != 0 {
			t.Fatalf("%s: limit 0 gave %v", when, got)
		}
	}
	check("before reopen")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open("db", Options{FS: fs}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("after reopen")
	var many []Metadata
	for i := range 15 {
		many = append(many, Metadata{Metric: "churn", Type: "gauge", Help: string(rune('a' + i))})
	}
	if err := db.SetMetadata(many); err != nil {
		t.Fatal(err)
	}
	got := db.Metadata("churn", -1, -1)["churn"]
	if len(got) != maxMetadataVariants || got[0].Help != "o" {
		t.Fatalf("churn keeps %v, want the %d newest, newest first", got, maxMetadataVariants)
	}
}
