// Package strictyaml decodes YAML strictly, by walking the parsed nodes, and
// collects every problem with the file, line and key path it concerns, in
// the user's terms: "cfg.yml:41: sources[2].mapping.severity: unknown field
// \"priorty\"".
package strictyaml

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem at one place of a file.
type Error struct {
	File string
	Line int    // 0 when unknown
	Path string // key path such as policies.acme.tiers.basic.calendar
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Decoder walks the nodes of one file and collects errors.
type Decoder struct {
	File string
	// LookupEnv reads the environment for secrets; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
	errs      Errors
}

// Errorf records a problem at node n (nil: no line) and key path.
func (d *Decoder) Errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.File, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the collected errors sorted by line, or nil.
func (d *Decoder) Err() error {
	if len(d.errs) == 0 {
		return nil
	}
	es := append(Errors(nil), d.errs...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// Parse parses a whole file and returns its top-level node (a document's
// content), or nil with the error recorded. An empty file gives an empty
// mapping.
func (d *Decoder) Parse(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := yamlErrorLine(err)
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if line > 0 {
			msg = strings.TrimPrefix(msg, fmt.Sprintf("line %d: ", line))
		}
		d.errs = append(d.errs, &Error{File: d.File, Line: line, Msg: msg})
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}
	}
	return resolveAliases(doc.Content[0])
}

func yamlErrorLine(err error) int {
	// yaml.v3 says "yaml: line 7: …"
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	s := err.Error()
	if i := strings.Index(s, "line "); i >= 0 {
		rest := s[i+5:]
		if j := strings.IndexByte(rest, ':'); j > 0 {
			if n, err := strconv.Atoi(rest[:j]); err == nil {
				return n
			}
		}
	}
	return 0
}

func resolveAliases(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// Join makes a child key path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index makes a list element path.
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// Map calls fn for each key of mapping n, in file order. A key that is not
// a scalar, or a node that is not a mapping, is an error.
func (d *Decoder) Map(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) bool {
	n = resolveAliases(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return true
	}
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "must be a mapping, not %s", kindName(n))
		return false
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolveAliases(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.Errorf(k, path, "keys must be plain values")
			continue
		}
		if seen[k.Value] {
			d.Errorf(k, Join(path, k.Value), "duplicate key")
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
	return true
}

// Fields decodes mapping n through one handler per known key; any other
// key is an error naming it. Handlers get the value node and its path.
func (d *Decoder) Fields(n *yaml.Node, path string, fields map[string]func(v *yaml.Node, path string)) {
	d.Map(n, path, func(key string, k, v *yaml.Node) {
		h, ok := fields[key]
		if !ok {
			d.Errorf(k, path, "unknown field %q%s", key, suggest(key, fields))
			return
		}
		h(v, Join(path, key))
	})
}

func suggest(key string, fields map[string]func(*yaml.Node, string)) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return " (known fields: " + strings.Join(names, ", ") + ")"
}

// Seq calls fn for each element of sequence n.
func (d *Decoder) Seq(n *yaml.Node, path string, fn func(i int, v *yaml.Node, path string)) bool {
	n = resolveAliases(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, path, "must be a list, not %s", kindName(n))
		return false
	}
	for i, v := range n.Content {
		fn(i, resolveAliases(v), Index(path, i))
	}
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "this"
}

func (d *Decoder) scalar(n *yaml.Node, path, what string) (string, bool) {
	n = resolveAliases(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		if n == nil {
			d.Errorf(n, path, "missing %s", what)
		} else {
			d.Errorf(n, path, "must be %s, not %s", what, kindName(n))
		}
		return "", false
	}
	return n.Value, true
}

// String decodes a string.
func (d *Decoder) String(n *yaml.Node, path string, dst *string) bool {
	s, ok := d.scalar(n, path, "a string")
	if ok {
		*dst = s
	}
	return ok
}

// Bool decodes a boolean.
func (d *Decoder) Bool(n *yaml.Node, path string, dst *bool) bool {
	s, ok := d.scalar(n, path, "true or false")
	if !ok {
		return false
	}
	switch s {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		d.Errorf(n, path, "must be true or false, not %q", s)
		return false
	}
	return true
}

// Int decodes an integer.
func (d *Decoder) Int(n *yaml.Node, path string, dst *int) bool {
	s, ok := d.scalar(n, path, "a whole number")
	if !ok {
		return false
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		d.Errorf(n, path, "must be a whole number, not %q", s)
		return false
	}
	*dst = v
	return true
}

// Float decodes a number.
func (d *Decoder) Float(n *yaml.Node, path string, dst *float64) bool {
	s, ok := d.scalar(n, path, "a number")
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		d.Errorf(n, path, "must be a number, not %q", s)
		return false
	}
	*dst = v
	return true
}

// Duration decodes a positive duration such as 30m, 8h or 90s, in whole
// seconds; "1d" is 24h.
func (d *Decoder) Duration(n *yaml.Node, path string, dst *time.Duration) bool {
	s, ok := d.scalar(n, path, "a duration")
	if !ok {
		return false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.Errorf(n, path, "%v", err)
		return false
	}
	*dst = v
	return true
}

// ParseDuration parses a positive duration in whole seconds: Go's syntax
// (90s, 30m, 1h30m) plus d for 24-hour days.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad duration %q (use e.g. 90s, 30m, 8h, 1d)", s)
	in := s
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, bad
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || int64(n) > int64(math.MaxInt64/(24*time.Hour)) {
			return 0, bad
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
	}
	var v time.Duration
	if s != "" {
		if s[0] == '-' || s[0] == '+' {
			return 0, bad
		}
		var err error
		if v, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if v > math.MaxInt64-days {
		return 0, bad
	}
	v += days
	if v <= 0 {
		return 0, fmt.Errorf("bad duration %q: must be positive", in)
	}
	if v%time.Second != 0 {
		return 0, fmt.Errorf("bad duration %q: must be whole seconds", in)
	}
	return v, nil
}

// Strings decodes a list of strings.
func (d *Decoder) Strings(n *yaml.Node, path string, dst *[]string) bool {
	ok := true
	var out []string
	d.Seq(n, path, func(i int, v *yaml.Node, p string) {
		var s string
		if d.String(v, p, &s) {
			out = append(out, s)
		} else {
			ok = false
		}
	})
	*dst = out
	return ok
}
