package config

import (
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parseServe(t *testing.T, args []string, env map[string]string) (Serve, error) {
	t.Helper()
	var c Serve
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Register(fs)
	if err := Parse(fs, args, func(k string) string { return env[k] }); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestFlagsAndEnvironmentTwins(t *testing.T) {
	c, err := parseServe(t, []string{"--base-url", "https://a.example.com/", "--clock-skew", "5s"}, map[string]string{
		"SEATLENS_BASE_URL":        "https://ignored.example.com",
		"SEATLENS_DATA":            "/var/lib/seatlens",
		"SEATLENS_UNINSTALL_GRACE": "7d",
		"SEATLENS_LOG_FORMAT":      "console",
		"SEATLENS_ADDR":            ":9000",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://a.example.com" {
		t.Errorf("flag must win over env and lose its trailing slash: %q", c.BaseURL)
	}
	if c.DataDir != "/var/lib/seatlens" || c.UninstallGrace != 7*24*time.Hour || c.LogFormat != "console" || c.Addr != ":9000" {
		t.Errorf("env twins not applied: %+v", c)
	}
	if c.ClockSkew != 5*time.Second {
		t.Errorf("clock skew %s", c.ClockSkew)
	}
	if c.SealKeyFile != filepath.Join("/var/lib/seatlens", "seal.key") {
		t.Errorf("seal key default %q", c.SealKeyFile)
	}
}

func TestDefaults(t *testing.T) {
	c, err := parseServe(t, []string{"--base-url", "http://localhost:8080"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.UninstallGrace != 30*24*time.Hour || c.InstallKeysURL != DefaultInstallKeysURL || c.ClockSkew != DefaultClockSkew || c.Addr != DefaultAddr {
		t.Errorf("defaults: %+v", c)
	}
}

func TestBadConfigurationIsOneClearLine(t *testing.T) {
	cases := map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no base url":        {nil, nil, "--base-url"},
		"http non-loopback":  {[]string{"--base-url", "http://example.com:80"}, nil, "--base-url"},
		"bad addr":           {[]string{"--base-url", "https://a.example.com", "--addr", "8080"}, nil, "--addr"},
		"bad log format":     {[]string{"--base-url", "https://a.example.com", "--log-format", "xml"}, nil, "--log-format"},
		"bad level":          {[]string{"--base-url", "https://a.example.com", "--log-level", "loud"}, nil, "--log-level"},
		"bad skew":           {[]string{"--base-url", "https://a.example.com", "--clock-skew", "1h"}, nil, "--clock-skew"},
		"bad grace via env":  {[]string{"--base-url", "https://a.example.com"}, map[string]string{"SEATLENS_UNINSTALL_GRACE": "soon"}, "SEATLENS_UNINSTALL_GRACE"},
		"bad keys url":       {[]string{"--base-url", "https://a.example.com", "--install-keys-url", "keys"}, nil, "--install-keys-url"},
		"unknown flag":       {[]string{"--bogus"}, nil, "bogus"},
		"stray argument":     {[]string{"--base-url", "https://a.example.com", "extra"}, nil, "extra"},
		"negative grace":     {[]string{"--base-url", "https://a.example.com", "--uninstall-grace", "-1h"}, nil, "--uninstall-grace"},
		"overflowing grace":  {[]string{"--base-url", "https://a.example.com", "--uninstall-grace", "213504d"}, nil, "uninstall-grace"},
		"body limit too low": {[]string{"--base-url", "https://a.example.com", "--body-limit", "10"}, nil, "--body-limit"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseServe(t, tc.args, tc.env)
			if err == nil {
				t.Fatal("want an error")
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q should be one line naming %q", msg, tc.want)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	var d Duration
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "90s": 90 * time.Second, "0d": 0} {
		if err := d.Set(in); err != nil || time.Duration(d) != want {
			t.Errorf("Set(%q) = %v, %v", in, time.Duration(d), err)
		}
	}
	d = Duration(48 * time.Hour)
	if d.String() != "2d" {
		t.Errorf("String = %q", d.String())
	}
	if EnvName("install-keys-url") != "SEATLENS_INSTALL_KEYS_URL" {
		t.Error(EnvName("install-keys-url"))
	}
}
