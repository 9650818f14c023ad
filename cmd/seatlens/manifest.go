package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	seatlens "github.com/seatlens/seatlens"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/descriptor"
)

// manifest prints the Connect-on-Forge manifest.yml generated from the
// embedded descriptor, for `forge deploy`.
func manifest(_ context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var baseURL, appID string
	fs := newFlagSet("manifest", stderr)
	fs.StringVar(&baseURL, "base-url", "https://seatlens.example.com", "the server's public https base URL (the Forge remote)")
	fs.StringVar(&appID, "forge-app-id", "", "app id printed by `forge register` (default: a placeholder)")
	err := parseFlags(fs, args, getenv, func() error {
		if appID != "" && !forge.ValidAppID(appID) {
			return errors.New("--forge-app-id: want ari:cloud:ecosystem::app/<uuid> or the uuid")
		}
		return nil
	})
	if err != nil {
		return err
	}
	tpl, err := descriptor.Parse(seatlens.DescriptorTemplate)
	if err != nil {
		return err
	}
	rendered, err := tpl.Render(baseURL)
	if err != nil {
		return fmt.Errorf("%w: --base-url: %v", errUsage, err)
	}
	d, err := descriptor.Parse(rendered)
	if err != nil {
		return err
	}
	desc := d.Descriptor()
	out, err := desc.Manifest(descriptor.ManifestOptions{AppID: forge.NormalizeAppID(appID)})
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
