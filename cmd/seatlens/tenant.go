package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/seatlens/seatlens/app"
	"github.com/seatlens/seatlens/app/config"
	"github.com/seatlens/seatlens/store"
)

// tenantCmd is an operator's answer to a tenant's owner: `tenant export`
// writes one tenant's data as JSON (its sealed secrets left out), `tenant
// delete` deletes it now, as the end of the grace period would, keeping
// only the signed heads of its proof chain. While a server runs it is
// asked over its admin socket; otherwise the store is opened directly.
func tenantCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "delete") {
		return fmt.Errorf("%w: tenant export|delete --client-key KEY [--out FILE] [--data DIR]", errUsage)
	}
	op := args[0]
	var (
		data      config.Data
		clientKey string
		out       string
	)
	fs := newFlagSet("tenant "+op, stderr)
	data.Register(fs)
	fs.StringVar(&clientKey, "client-key", "", "the tenant's client key (from the server's logs or the install)")
	if op == "export" {
		fs.StringVar(&out, "out", "", "file to write the export to (default: standard output)")
	}
	err := parseFlags(fs, args[1:], getenv, func() error {
		if clientKey == "" {
			return errors.New("--client-key is required")
		}
		return data.Validate()
	})
	if err != nil {
		return err
	}
	var body []byte
	sock := filepath.Join(data.Dir(), app.AdminSocketName)
	body, err = viaSocket(ctx, sock, op, clientKey)
	if errors.Is(err, errNoServer) {
		body, err = direct(ctx, data, op, clientKey)
	}
	if err != nil {
		return err
	}
	if op == "delete" {
		fmt.Fprintf(stdout, "deleted tenant %s (its signed chain heads are kept)\n", clientKey)
		return nil
	}
	if out == "" {
		_, err = stdout.Write(body)
		return err
	}
	if err := os.WriteFile(out, body, 0o600); err != nil {
		return fmt.Errorf("tenant export: %w", err)
	}
	fmt.Fprintf(stdout, "exported tenant %s to %s bytes=%d\n", clientKey, out, len(body))
	return nil
}

var errNoTenant = errors.New("no such tenant")

func viaSocket(ctx context.Context, sock, op, clientKey string) ([]byte, error) {
	if _, err := os.Stat(sock); err != nil {
		return nil, errNoServer
	}
	client := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	method, path := http.MethodGet, "http://seatlens/tenants/"+url.PathEscape(clientKey)+"/export"
	if op == "delete" {
		method, path = http.MethodDelete, "http://seatlens/tenants/"+url.PathEscape(clientKey)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoServer, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return nil, fmt.Errorf("tenant %s: %w", op, err)
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("tenant %s: %w %s", op, errNoTenant, clientKey)
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("tenant %s: the server answered %s", op, resp.Status)
	}
	return body, nil
}

func direct(ctx context.Context, data config.Data, op, clientKey string) ([]byte, error) {
	st, err := openStore(ctx, data.Dir(), data.SealKeyFile())
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var buf bytes.Buffer
	if op == "delete" {
		err = st.PurgeTenant(ctx, clientKey)
	} else {
		err = st.ExportTenant(ctx, clientKey, &buf)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("tenant %s: %w %s", op, errNoTenant, clientKey)
	}
	return buf.Bytes(), err
}
