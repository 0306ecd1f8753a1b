package strictyaml

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// envRef is a whole value naming an environment variable: ${NAME}.
var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// SecretFields are the handlers of a secret's two keys, NAME and
// NAME_file, for Fields: the value of NAME must be "${ENV_VAR}", read from
// the environment; NAME_file names a file holding it (relative to dir),
// read now. A secret written inline is refused, and no error shows a
// secret's value.
func (d *Decoder) SecretFields(name, dir string, dst *string) map[string]func(*yaml.Node, string) {
	return map[string]func(*yaml.Node, string){
		name: func(v *yaml.Node, p string) {
			var s string
			if !d.String(v, p, &s) {
				return
			}
			m := envRef.FindStringSubmatch(s)
			if m == nil {
				d.Errorf(v, p, "secrets are never written inline: write ${ENV_VAR} and set that variable, or use %s_file", name)
				return
			}
			val, ok := d.lookupEnv(m[1])
			if !ok || val == "" {
				d.Errorf(v, p, "environment variable %s is not set", m[1])
				return
			}
			*dst = val
		},
		name + "_file": func(v *yaml.Node, p string) {
			var f string
			if !d.String(v, p, &f) {
				return
			}
			if !filepath.IsAbs(f) {
				f = filepath.Join(dir, f)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				d.Errorf(v, p, "reading the secret: %v", err)
				return
			}
			val := strings.TrimRight(string(b), "\r\n")
			if val == "" {
				d.Errorf(v, p, "%s is empty", f)
				return
			}
			*dst = val
		},
	}
}

func (d *Decoder) lookupEnv(name string) (string, bool) {
	if d.LookupEnv != nil {
		return d.LookupEnv(name)
	}
	return os.LookupEnv(name)
}
