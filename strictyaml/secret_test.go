package strictyaml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token.txt"), []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"API_TOKEN": "from-the-env"}
	for _, tt := range []struct {
		doc, want, err string
	}{
		{"token: ${API_TOKEN}", "from-the-env", ""},
		{"token_file: token.txt", "from-a-file", ""},
		{"token_file: " + filepath.Join(dir, "token.txt"), "from-a-file", ""},
		{"token: hunter2", "", `f.yml:1: token: secrets are never written inline: write ${ENV_VAR} and set that variable, or use token_file`},
		{"token: ${NOT_SET}", "", "f.yml:1: token: environment variable NOT_SET is not set"},
		{"token: pre${API_TOKEN}", "", "never written inline"},
		{"token_file: missing.txt", "", "f.yml:1: token_file: reading the secret:"},
	} {
		d := &Decoder{File: "f.yml", LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
		var got string
		d.Fields(d.Parse([]byte(tt.doc)), "", d.SecretFields("token", dir, &got))
		err := d.Err()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.doc, err, tt.err)
			}
			if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "from-")) {
				t.Errorf("%s: the error shows a secret: %v", tt.doc, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.doc, got, err, tt.want)
		}
	}
}
