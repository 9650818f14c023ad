package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/seatlens/seatlens/app"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/store"
)

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("seatlens "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and validates, marking every failure as a usage error
// of one line.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string, validate func() error) error {
	if err := config.Parse(fs, args, getenv); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func serve(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	var cfg config.Serve
	fs := newFlagSet("serve", stderr)
	cfg.Register(fs)
	if err := parseFlags(fs, args, getenv, cfg.Validate); err != nil {
		return err
	}
	log, err := app.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	st, err := openStore(ctx, cfg.DataDir, cfg.SealKeyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := app.New(cfg, app.Deps{Store: st, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info().Str("addr", ln.Addr().String()).Str("base_url", cfg.BaseURL).Str("data", cfg.DataDir).
		Str("version", app.Version()).Msg("seatlens serving")
	return a.Run(ctx, ln, 15*time.Second)
}

// openStore opens the data folder. A seal key is created only for a new
// database: when one exists, a missing key is an operator's mistake (a
// new key could never open it), not something to paper over.
func openStore(ctx context.Context, dir, sealKeyFile string) (*store.Store, error) {
	load := store.LoadOrCreateSealKey
	if _, err := os.Stat(filepath.Join(dir, store.DBFileName)); err == nil {
		load = store.LoadSealKey
	}
	key, err := load(sealKeyFile)
	if err != nil {
		return nil, err
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Options{Dir: dir, Sealer: sealer})
}

func version(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "seatlens %s\n", app.Version())
	return err
}
