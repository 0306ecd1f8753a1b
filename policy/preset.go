package policy

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/support-sla/support_sla_exporter/sla"
)

// presetFS holds the built-in presets, one policy per file, each named
// after its file.
//
//go:embed presets/*.yml
var presetFS embed.FS

func presetFile(name string) string { return "presets/" + name + ".yml" }

// PresetNames returns the names of the built-in presets, sorted.
func PresetNames() []string {
	files, _ := fs.Glob(presetFS, "presets/*.yml") // the pattern is valid
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(strings.TrimPrefix(f, "presets/"), ".yml")
	}
	slices.Sort(names)
	return names
}

// Preset returns the built-in preset of that name, compiled afresh: its
// calendars are its own, so callers may use it freely.
func Preset(name string) (*sla.Policy, error) {
	names := PresetNames()
	if !slices.Contains(names, name) {
		return nil, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(names, ", "))
	}
	data, err := presetFS.ReadFile(presetFile(name))
	if err != nil {
		return nil, err
	}
	ps, err := Parse(presetFile(name), data)
	if err != nil {
		return nil, fmt.Errorf("built-in preset %s is broken: %w", name, err)
	}
	p, ok := ps[name]
	if !ok {
		return nil, fmt.Errorf("built-in preset %s is broken: %s does not define policy %s", name, presetFile(name), name)
	}
	return p, nil
}
