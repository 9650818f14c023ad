package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/seatlens/seatlens/app"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/store"
)

// backup copies the database consistently. While a server runs it holds
// the database lock, so the copy is asked of it over its admin socket;
// otherwise the file is opened and copied directly.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var (
		data config.Data
		out  string
	)
	fs := newFlagSet("backup", stderr)
	data.Register(fs)
	fs.StringVar(&out, "out", "", "file to write the backup to (it holds sealed secrets: keep it private)")
	err := parseFlags(fs, args, getenv, func() error {
		if out == "" {
			return errors.New("--out FILE is required")
		}
		return data.Validate()
	})
	if err != nil {
		return err
	}
	// A fresh 0600 file next to the target, renamed into place when whole:
	// never a half-written backup, never a file others can read.
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".partial-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	n, how, err := copyDatabase(ctx, data, tmp)
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("backup: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: close: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup %s bytes=%d via=%s\n", out, n, how)
	return nil
}

func copyDatabase(ctx context.Context, data config.Data, w io.Writer) (int64, string, error) {
	sock := filepath.Join(data.Dir(), app.AdminSocketName)
	if _, err := os.Stat(sock); err == nil {
		n, err := backupViaSocket(ctx, sock, w)
		if err == nil {
			return n, "server", nil
		}
		if !errors.Is(err, errNoServer) {
			return 0, "", err
		}
	}
	// No server: copy the file read-only, without the seal key, migrations
	// or any write to the data folder.
	n, err := store.BackupFile(ctx, data.Dir(), w)
	if errors.Is(err, store.ErrLocked) {
		return 0, "", fmt.Errorf("backup: the database is locked by a server whose admin socket %s does not answer", sock)
	}
	return n, "file", err
}

var errNoServer = errors.New("no server on the admin socket")

func backupViaSocket(ctx context.Context, sock string, w io.Writer) (int64, error) {
	client := &http.Client{Timeout: time.Hour, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://seatlens/backup", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errNoServer, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("backup: server answered %s", resp.Status)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("backup: copy from server: %w", err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("backup: got %d of %d bytes", n, resp.ContentLength)
	}
	return n, nil
}

// restore puts a backup into an empty data folder. The seal key that
// sealed the backup must already be at --seal-key-file.
func restore(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var (
		data config.Data
		from string
	)
	fs := newFlagSet("restore", stderr)
	data.Register(fs)
	fs.StringVar(&from, "from", "", "backup file to restore")
	err := parseFlags(fs, args, getenv, func() error {
		if from == "" {
			return errors.New("--from FILE is required")
		}
		return data.Validate()
	})
	if err != nil {
		return err
	}
	if _, err := os.Stat(data.SealKeyFile()); err != nil {
		return fmt.Errorf("restore: seal key %s: %w (copy the key that sealed the backup there first)", data.SealKeyFile(), err)
	}
	key, err := store.LoadSealKey(data.SealKeyFile())
	if err != nil {
		return err
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return err
	}
	f, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	if err := store.Restore(ctx, data.Dir(), f, sealer); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", from, data.Dir())
	return nil
}
