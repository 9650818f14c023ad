package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/seatlens/seatlens/store"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// AdminSocketName is the unix socket in the data folder on which a running
// server offers a consistent backup (`seatlens backup` uses it, because the
// database file is locked while the server runs).
const AdminSocketName = "admin.sock"

// PurgeInterval is how often uninstalled tenants past the grace period are
// looked for.
const PurgeInterval = time.Hour

// Run serves HTTP on ln and the admin socket in the data folder until ctx
// is cancelled, then shuts down gracefully within shutdownTimeout.
func (a *App) Run(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	admin, err := a.listenAdmin()
	if err != nil {
		return err
	}
	// The backup is a snapshot file streamed after its read transaction
	// ended; the write timeout only bounds how long a client that stops
	// reading keeps that file open.
	adminSrv := &http.Server{Handler: a.adminHandler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: time.Hour}

	// A scan a previous process left running is queued again (or ends
	// failed) before the first request can ask about it.
	if err := a.scans.Start(ctx); err != nil {
		admin.Close()
		return err
	}
	// A review a previous process left executing carries on.
	if err := a.executor.Start(ctx); err != nil {
		admin.Close()
		return err
	}
	// Accounts a previous process left pending are rescanned; the audit
	// logs are polled and the scheduled scans queued from now on.
	if err := a.worker.Start(ctx); err != nil {
		admin.Close()
		return err
	}
	a.poller.Start(ctx)
	a.scheduler.Start(ctx)
	a.reporter.Start(ctx, a.cfg.PersonalDataInterval)
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(3)
	go func() {
		defer wg.Done()
		if err := a.e.Server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("app: http server: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := adminSrv.Serve(admin); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("app: admin socket: %w", err)
		}
	}()
	janitorCtx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer wg.Done()
		a.purgeLoop(janitorCtx)
	}()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	stopJanitor()
	if err := a.e.Server.Shutdown(sctx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("app: shutdown: %w", err))
	}
	if err := adminSrv.Shutdown(sctx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("app: admin shutdown: %w", err))
	}
	wg.Wait()
	_ = os.Remove(filepath.Join(a.cfg.DataDir, AdminSocketName))
	return runErr
}

func (a *App) listenAdmin() (net.Listener, error) {
	path := filepath.Join(a.cfg.DataDir, AdminSocketName)
	// A socket left by a crashed server would make Listen fail; nothing can
	// be listening on it now, since this process holds the database lock.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("app: remove stale admin socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("app: admin socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("app: admin socket mode: %w", err)
	}
	return ln, nil
}

// adminHandler serves the admin socket. The socket file is 0600 in a 0700
// folder, so only the server's own user reaches it: the backup holds the
// sealed secrets.
func (a *App) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/backup", a.store.BackupHandler())
	// One tenant's data, for an operator answering its owner: a copy, or
	// its deletion now (the signed chain heads stay).
	mux.HandleFunc("GET /tenants/{clientKey}/export", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		err := a.store.ExportTenant(r.Context(), r.PathValue("clientKey"), &buf)
		switch {
		case errors.Is(err, store.ErrNotFound):
			http.Error(w, "no such tenant", http.StatusNotFound)
		case err != nil:
			a.log.Error().Err(err).Msg("tenant export failed")
			http.Error(w, "export failed", http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write(buf.Bytes())
		}
	})
	mux.HandleFunc("DELETE /tenants/{clientKey}", func(w http.ResponseWriter, r *http.Request) {
		ck := r.PathValue("clientKey")
		err := a.store.PurgeTenant(r.Context(), ck)
		switch {
		case errors.Is(err, store.ErrNotFound):
			http.Error(w, "no such tenant", http.StatusNotFound)
		case err != nil:
			a.log.Error().Err(err).Msg("tenant delete failed")
			http.Error(w, "delete failed", http.StatusInternalServerError)
		default:
			a.log.Info().Str("client_key", ck).Msg("tenant deleted by the operator")
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return mux
}

// purgeLoop purges uninstalled tenants whose grace period has passed, now
// and then every PurgeInterval.
func (a *App) purgeLoop(ctx context.Context) {
	t := time.NewTicker(PurgeInterval)
	defer t.Stop()
	for {
		if _, err := a.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			a.log.Error().Err(err).Msg("purging uninstalled tenants failed; will retry")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PurgeExpired deletes every tenant uninstalled at least the grace period
// ago, with all its data.
func (a *App) PurgeExpired(ctx context.Context) ([]string, error) {
	cutoff := a.now().UTC().Add(-a.cfg.UninstallGrace)
	purged, err := a.store.PurgeUninstalled(ctx, cutoff)
	if err != nil {
		return nil, err
	}
	for _, ck := range purged {
		a.log.Info().Str("client_key", ck).Time("cutoff", cutoff).Msg("purged uninstalled tenant after grace period")
	}
	return purged, nil
}
