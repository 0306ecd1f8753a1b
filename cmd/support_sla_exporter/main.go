// Command support_sla_exporter turns support-desk tickets into SLA signals:
// Prometheus metrics, alerts and monthly reports.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/kelseyhightower/envconfig"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"

	// Cases name IANA zones; embed the database so a minimal image works.
	_ "time/tzdata"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/demo"
	"github.com/support-sla/support_sla_exporter/sources/file"
	"github.com/support-sla/support_sla_exporter/sources/freshdesk"
	"github.com/support-sla/support_sla_exporter/sources/github"
	"github.com/support-sla/support_sla_exporter/sources/jira"
	"github.com/support-sla/support_sla_exporter/sources/jsonapi"
	"github.com/support-sla/support_sla_exporter/sources/redmine"
	"github.com/support-sla/support_sla_exporter/sources/rt"
	"github.com/support-sla/support_sla_exporter/sources/servicenow"
	"github.com/support-sla/support_sla_exporter/sources/zendesk"
)

const program = "support_sla_exporter"

// envPrefix prefixes every process setting read from the environment.
const envPrefix = "SUPPORT_SLA"

// settings are the process settings. Each has a flag of the same meaning;
// a flag given on the command line wins over the environment.
type settings struct {
	ConfigFile    string `envconfig:"CONFIG_FILE" desc:"configuration file (YAML); without one, the built-in demo runs"`
	ListenAddress string `envconfig:"LISTEN_ADDRESS" default:":9747" desc:"address to serve /metrics and the web pages on"`
	WebConfigFile string `envconfig:"WEB_CONFIG_FILE" desc:"exporter-toolkit web configuration: TLS and basic authentication"`
	LogLevel      string `envconfig:"LOG_LEVEL" default:"info" desc:"log level: debug, info, warn or error"`
	LogFormat     string `envconfig:"LOG_FORMAT" default:"logfmt" desc:"log format: logfmt or json"`
}

// registry maps each source type to its constructor: adding a ticket
// system is one package and one line here.
func registry() sources.Registry {
	return sources.Registry{
		"demo":       demo.New,
		"file":       file.New,
		"freshdesk":  freshdesk.New,
		"github":     github.New,
		"jira":       jira.New,
		"jsonapi":    jsonapi.New,
		"redmine":    redmine.New,
		"rt":         rt.New,
		"servicenow": servicenow.New,
		"zendesk":    zendesk.New,
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, time.Now)
	stop()
	os.Exit(code)
}

// app is one invocation: parsed settings and the streams to use.
type app struct {
	settings
	stdout, stderr io.Writer
	now            func() time.Time
	logger         *slog.Logger

	casesArgs   casesCmd
	explainArgs explainCmd
	reportArgs  reportCmd
	serveArgs   serveCmd
}

// run runs the program with the arguments after its name and returns the
// exit code: 0 success, 1 failure, 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	if version.Version == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			version.Version = bi.Main.Version
		}
	}
	a := &app{stdout: stdout, stderr: stderr, now: now}
	if err := envconfig.Process(envPrefix, &a.settings); err != nil {
		fmt.Fprintf(stderr, "%s: environment: %v\n", program, err)
		return 2
	}

	k := kingpin.New(program, "Turns support-desk tickets into SLA signals: Prometheus metrics, alerts and reports.\n\n"+envHelp())
	k.Writer(stdout)
	k.ErrorWriter(stderr)
	// --help and --version end the program through kingpin's terminate
	// hook; turn that into a return so that run stays testable.
	k.Terminate(func(code int) { panic(terminated(code)) })
	k.HelpFlag.Short('h')
	k.Version(version.Print(program))
	k.Flag("config.file", "Configuration file (YAML). Without one, the built-in demo runs: simulated cases under the veeam preset.").
		Default(a.ConfigFile).PlaceHolder("FILE").StringVar(&a.ConfigFile)
	k.Flag("log.level", "Log level: debug, info, warn or error.").Default(a.LogLevel).StringVar(&a.LogLevel)
	k.Flag("log.format", "Log format: logfmt or json.").Default(a.LogFormat).StringVar(&a.LogFormat)

	serveCmd := newServeCmd(k, a)
	casesCmd := newCasesCmd(k, a)
	explainCmd := newExplainCmd(k, a)
	reportCmd := newReportCmd(k, a)
	checkCmd := k.Command("check-config", "Load and validate the configuration and its policies; exit non-zero with every error found.")
	versionCmd := k.Command("version", "Print the version, revision and Go version.")

	cmd, code, err := parse(k, args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (see --help)\n", program, err)
		return 2
	}
	if cmd == "" { // --help or --version already printed
		return code
	}
	if a.logger, err = newLogger(a.LogLevel, a.LogFormat, stderr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 2
	}
	switch cmd {
	case serveCmd.FullCommand():
		return a.serve(ctx)
	case casesCmd.FullCommand():
		return a.cases(ctx)
	case explainCmd.FullCommand():
		return a.explain(ctx)
	case reportCmd.FullCommand():
		return a.report(ctx)
	case checkCmd.FullCommand():
		return a.checkConfig()
	case versionCmd.FullCommand():
		fmt.Fprintln(stdout, version.Print(program))
		return 0
	}
	return 2
}

// terminated is kingpin asking to exit with a code.
type terminated int

func parse(k *kingpin.Application, args []string) (cmd string, code int, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, ok := r.(terminated)
			if !ok {
				panic(r)
			}
			cmd, code, err = "", int(t), nil
		}
	}()
	cmd, err = k.Parse(args)
	return cmd, 0, err
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	cfg := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat(), Writer: w}
	if err := cfg.Level.Set(level); err != nil {
		return nil, fmt.Errorf("--log.level: %w", err)
	}
	if err := cfg.Format.Set(format); err != nil {
		return nil, fmt.Errorf("--log.format: %w", err)
	}
	return promslog.New(cfg), nil
}

// envHelp lists the environment variables for --help.
func envHelp() string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	const format = "Environment variables (a flag given on the command line wins):\n" +
		"{{range .}}  {{usage_key .}}\t(default {{if usage_default .}}{{usage_default .}}{{else}}none{{end}})\t{{usage_description .}}\n{{end}}"
	if err := envconfig.Usagef(envPrefix, &settings{}, tw, format); err != nil {
		return ""
	}
	tw.Flush()
	return buf.String()
}

// loadConfig loads the configuration file, or the demo when there is none.
func (a *app) loadConfig() (*config.Config, error) {
	o := config.Options{Registry: registry(), Logger: a.logger, Now: a.now}
	if a.ConfigFile == "" {
		return config.Demo(o)
	}
	return config.Load(a.ConfigFile, o)
}

func (a *app) checkConfig() int {
	cfg, err := a.loadConfig()
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return 1
	}
	name := cfg.File
	if name == "" {
		name = "built-in demo configuration"
	}
	fmt.Fprintf(a.stdout, "%s: OK, %d source(s)\n", name, len(cfg.Sources))
	return 0
}
