package sources

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// A source's own decoder sees its keys; the common ones pass, any other
// key is an error with its line.
func TestFields(t *testing.T) {
	d := &strictyaml.Decoder{File: "c.yml"}
	n := d.Parse([]byte("name: a\ntype: x\npolicy: p\ninterval: 1m\npath: f.json\npaht: g.json\n"))
	var path string
	Fields(d, n, "sources[0]", map[string]func(*yaml.Node, string){
		"path": func(v *yaml.Node, p string) { d.String(v, p, &path) },
	})
	err := d.Err()
	if path != "f.json" {
		t.Errorf("path = %q", path)
	}
	if err == nil || !strings.HasPrefix(err.Error(), `c.yml:6: sources[0]: unknown field "paht"`) || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("err = %v, want one error for paht on line 6", err)
	}
}
