// Package file is the source that reads cases from a local file: a JSON
// array, JSON Lines or CSV export of a ticket system, or what a script
// writes. The file is read again whenever its content changes.
//
// Records have the fields of a case in the SLA spec, under the same names.
// Times are RFC 3339 with an offset; null, an empty string or an empty CSV
// cell is absent. status and created are required, severity is optional.
// In CSV, labels are separated by '|' and histories cannot be given. A bad
// record is skipped and reported with its file, line and case id; the
// last of records with the same id wins. Write the file atomically (write
// then rename): a JSON array read half-written fails the poll, but JSON
// Lines or CSV read half-written are fewer cases until the next poll.
package file

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

type source struct {
	name   string // the source's name, each case's Source
	file   string // the path as configured: what messages show
	path   string // the path resolved against the configuration's folder
	format string
	logger *slog.Logger
}

// New is the sources.Factory of `type: file`. Its keys are `path` (required;
// relative to the configuration file's folder) and `format` (auto, json,
// jsonl or csv; auto by default). The file need not exist yet: a missing
// file fails the polls, not the configuration.
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	s := &source{name: env.Name, format: FormatAuto, logger: env.Logger}
	hasPath := false
	sources.Fields(d, n, path, map[string]func(*yaml.Node, string){
		"path": func(v *yaml.Node, p string) {
			hasPath = true
			if d.String(v, p, &s.file) && s.file == "" {
				d.Errorf(v, p, "must not be empty")
			}
		},
		"format": func(v *yaml.Node, p string) {
			var f string
			if !d.String(v, p, &f) {
				return
			}
			if err := checkFormat(f); err != nil {
				d.Errorf(v, p, "%v", err)
				return
			}
			s.format = f
		},
	})
	if !hasPath {
		d.Errorf(n, strictyaml.Join(path, "path"), "missing: the file of cases to read")
	}
	s.path = s.file
	if !filepath.IsAbs(s.path) {
		s.path = filepath.Join(env.Dir, s.path)
	}
	return s
}

// Sync reads the whole file when its content differs from the one the
// cursor names, and returns every case with Full set; otherwise it returns
// the same cursor and no cases. Skipped records are reported once, with
// the batch that read them.
func (s *source) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	data, err := s.load(ctx)
	if err != nil {
		return sources.Batch{}, err
	}
	// The content decides: a rewrite of the same size within the
	// file system's mtime granularity is still a change, and a touch is
	// not. The format is part of it, as the same bytes read another way
	// are other cases.
	sum := sha256.Sum256(data)
	next := s.format + ":" + hex.EncodeToString(sum[:])
	if next == cursor {
		return sources.Batch{Cursor: cursor}, nil
	}
	cases, problems, err := s.parse(data)
	if err != nil {
		return sources.Batch{}, err
	}
	return sources.Batch{Full: true, Cases: cases, Problems: problems, Cursor: next}, nil
}

// Window reads the file again and returns the cases open at some time in
// [from, to). It has no way to return skipped records, so it logs them.
func (s *source) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	data, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	cases, problems, err := s.parse(data)
	if err != nil {
		return nil, err
	}
	if s.logger != nil {
		for _, p := range problems {
			s.logger.Warn("Skipped a record", "err", p)
		}
	}
	return slices.DeleteFunc(cases, func(c sla.Case) bool {
		return !c.Created.Before(to) || !c.Resolved.IsZero() && c.Resolved.Before(from)
	}), nil
}

func (s *source) load(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	return data, nil
}

func (s *source) parse(data []byte) ([]sla.Case, []error, error) {
	cases, problems, err := parse(s.file, data, s.format)
	for i := range cases {
		cases[i].Source = s.name
	}
	return cases, problems, err
}
