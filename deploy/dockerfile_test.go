package deploy_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, …
	args string
	line int
}

func parseDockerfile(t *testing.T, file string) []instruction {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	start, n := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue // comments are dropped even between continued lines
		}
		if cur.Len() == 0 {
			start = n
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.Join(strings.Fields(args), " "), line: start})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stage is a FROM and the instructions after it.
type stage struct {
	image, name string
	ins         []instruction
}

func stages(t *testing.T, ins []instruction) []stage {
	t.Helper()
	var out []stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			out = append(out, s)
			continue
		}
		if len(out) == 0 {
			if in.cmd == "ARG" {
				continue
			}
			t.Fatalf("line %d: %s before the first FROM", in.line, in.cmd)
		}
		out[len(out)-1].ins = append(out[len(out)-1].ins, in)
	}
	return out
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// makefileLinkerVars are the -X variables of the Makefile's LDFLAGS, which
// the image must set too so `version` says the same in both builds.
func makefileLinkerVars(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`-X (\S+)=`).FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		t.Fatal("Makefile: no -X in LDFLAGS")
	}
	return out
}

func TestDockerfile(t *testing.T) {
	st := stages(t, parseDockerfile(t, "Dockerfile"))
	if len(st) != 2 {
		t.Fatalf("%d stages, want 2 (builder, final)", len(st))
	}
	build, final := st[0], st[1]

	t.Run("builder Go is go.mod's", func(t *testing.T) {
		repo, tag, _ := strings.Cut(build.image, ":")
		if repo != "golang" {
			t.Fatalf("builder FROM %s, want golang:<go.mod's version>", build.image)
		}
		tag, _, _ = strings.Cut(tag, "-") // 1.26-bookworm
		want := goLine(t)
		// A floating minor tag (1.26) is the newest patch of that release.
		if tag != want && !strings.HasPrefix(want, tag+".") {
			t.Errorf("builder golang:%s, go.mod says go %s", tag, want)
		}
	})

	var out string // the binary the builder writes
	t.Run("static build with the Makefile's version variables", func(t *testing.T) {
		var cmd string
		for _, in := range build.all("RUN") {
			if strings.Contains(in.args, "go build") {
				cmd = in.args
			}
		}
		if cmd == "" {
			t.Fatal("no RUN … go build in the builder stage")
		}
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/support_sla_exporter"} {
			if !strings.Contains(cmd, want) {
				t.Errorf("go build lacks %s: %s", want, cmd)
			}
		}
		for _, v := range makefileLinkerVars(t) {
			if !strings.Contains(cmd, "-X "+v+"=") {
				t.Errorf("go build does not set %s as the Makefile does", v)
			}
		}
		m := regexp.MustCompile(`-o (\S+)`).FindStringSubmatch(cmd)
		if m == nil {
			t.Fatalf("go build has no -o: %s", cmd)
		}
		out = m[1]
	})

	t.Run("final image runs the built binary as non-root", func(t *testing.T) {
		var copied string
		for _, in := range final.all("COPY") {
			f := strings.Fields(in.args)
			if len(f) == 3 && f[0] == "--from="+build.name && f[1] == out {
				copied = f[2]
			}
		}
		if copied == "" {
			t.Fatalf("final stage does not COPY --from=%s %s", build.name, out)
		}
		ep := final.all("ENTRYPOINT")
		if len(ep) != 1 {
			t.Fatalf("%d ENTRYPOINTs in the final stage, want 1", len(ep))
		}
		var argv []string
		if err := json.Unmarshal([]byte(ep[0].args), &argv); err != nil || len(argv) == 0 {
			t.Fatalf("ENTRYPOINT %s: want the exec form [\"/path\"] (no shell in the image)", ep[0].args)
		}
		if argv[0] != copied {
			t.Errorf("ENTRYPOINT runs %s, the binary is copied to %s", argv[0], copied)
		}

		users := final.all("USER")
		switch {
		case len(users) > 0:
			u, _, _ := strings.Cut(users[len(users)-1].args, ":")
			if u == "0" || u == "root" {
				t.Errorf("final USER %s is root", users[len(users)-1].args)
			}
		case !strings.HasSuffix(final.image, ":nonroot"):
			t.Errorf("final stage %s sets no USER and is not a :nonroot image", final.image)
		}
	})

	t.Run("exposes the default port", func(t *testing.T) {
		port := defaultPort(t)
		var ports []string
		for _, in := range final.all("EXPOSE") {
			ports = append(ports, strings.Fields(in.args)...)
		}
		if !slices.Contains(ports, port) && !slices.Contains(ports, port+"/tcp") {
			t.Errorf("EXPOSE %v, want the default port %s", ports, port)
		}
	})
}

// ignored says whether a path of the build context is left out by
// .dockerignore's patterns (Docker's rules without **: a pattern matches a
// path or one of its parent folders, later patterns win, ! re-includes).
func ignored(patterns []string, p string) bool {
	out := false
	for _, pat := range patterns {
		neg := strings.HasPrefix(pat, "!")
		pat = path.Clean(strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/"))
		for q := p; q != "."; q = path.Dir(q) {
			if ok, _ := path.Match(pat, q); ok {
				out = !neg
				break
			}
		}
	}
	return out
}

func dockerignore(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for l := range strings.Lines(string(b)) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.Contains(l, "**") {
			t.Fatalf(".dockerignore: %q: this test's matcher has no **; extend it", l)
		}
		out = append(out, l)
	}
	return out
}

func TestIgnored(t *testing.T) {
	pats := []string{".git", "deploy", "*.md", "support_sla_exporter", "docs/*", "!docs/keep.go"}
	for _, c := range []struct {
		path string
		want bool
	}{
		{".git/HEAD", true},
		{"deploy/Dockerfile", true},
		{"README.md", true},
		{"policy/doc.md", false}, // *.md matches at the root only
		{"support_sla_exporter", true},
		{"cmd/support_sla_exporter/main.go", false},
		{"docs/a.go", true},
		{"docs/keep.go", false},
		{"go.mod", false},
	} {
		if got := ignored(pats, c.path); got != c.want {
			t.Errorf("ignored(%q) = %v, want %v", c.path, got, c.want)
		}
	}
}

// TestDockerignoreKeepsTheBuild: every file `go build
// ./cmd/support_sla_exporter` reads from this module (Go and embedded
// files of the packages it links, go.mod, go.sum) is in the image's
// build context.
func TestDockerignoreKeepsTheBuild(t *testing.T) {
	goCmd := needTool(t, "go")
	pats := dockerignore(t)
	cmd := exec.Command(goCmd, "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}{{end}}{{end}}`, "./cmd/support_sla_exporter")
	cmd.Dir = repoRoot
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"go.mod", "go.sum"}
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimSpace(l); l != "" {
			rel, err := filepath.Rel(root, l)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, filepath.ToSlash(rel))
		}
	}
	if len(files) < 10 {
		t.Fatalf("go list found only %v", files)
	}
	for _, f := range files {
		if ignored(pats, f) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", f)
		}
	}
}
