package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites the golden files of the package's tests:
// go test ./report -update.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./report -update writes it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s (go test ./report -update rewrites it if that is intended):\n%s", path, got)
	}
}
