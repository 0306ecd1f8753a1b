package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/support-sla/support_sla_exporter/exporter"
)

type serveCmd struct {
	listen        []string
	webConfigFile string
	systemdSocket bool
}

func newServeCmd(k *kingpin.Application, a *app) *kingpin.CmdClause {
	c := k.Command("serve", "Poll the configured sources in the background and serve /metrics (the default command).").Default()
	k.Flag("web.listen-address", "Address to listen on for /metrics and the web pages; repeatable.").
		Default(a.ListenAddress).StringsVar(&a.serveArgs.listen)
	k.Flag("web.config.file", "File that enables TLS or basic authentication (exporter-toolkit web configuration).").
		Default(a.WebConfigFile).PlaceHolder("FILE").StringVar(&a.serveArgs.webConfigFile)
	if runtime.GOOS == "linux" {
		k.Flag("web.systemd-socket", "Use systemd socket activation listeners instead of port listeners.").BoolVar(&a.serveArgs.systemdSocket)
	}
	return c
}

func (a *app) serve(ctx context.Context) int {
	e, err := exporter.New(exporter.Options{ConfigFile: a.ConfigFile, Registry: registry(), Logger: a.logger, Now: a.now})
	if err != nil {
		a.logger.Error("Cannot load the configuration", "err", err)
		return 1
	}
	a.logger.Info("Starting support_sla_exporter", "version", version.Info(), "about", e.Describe())
	a.logger.Info("Build context", "build_context", version.BuildContext())

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	e.Start(ctx)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = e.Reload() // logged; the old configuration goes on
			}
		}
	}()

	handler, err := e.Handler(version.Version)
	if err != nil {
		a.logger.Error("Cannot build the web pages", "err", err)
		return 1
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	flags := &web.FlagConfig{
		WebListenAddresses: &a.serveArgs.listen,
		WebSystemdSocket:   &a.serveArgs.systemdSocket,
		WebConfigFile:      &a.serveArgs.webConfigFile,
	}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, flags, a.logger) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("Cannot serve", "err", err)
			return 1
		}
		return 0
	case <-ctx.Done():
	}
	a.logger.Info("Shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		a.logger.Error("Shutdown", "err", err)
		return 1
	}
	return 0
}
