// Package config reads Seatlens' configuration from command-line flags,
// each with an environment twin SEATLENS_<FLAG> (--base-url →
// SEATLENS_BASE_URL). A flag given on the command line wins over its
// environment variable; Validate turns every mistake into one clear line.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/seatlens/seatlens/descriptor"
)

// Defaults.
const (
	DefaultAddr           = "127.0.0.1:8080"
	DefaultDataDir        = "seatlens-data"
	DefaultInstallKeysURL = "https://connect-install-keys.atlassian.com"
	DefaultClockSkew      = 30 * time.Second // atlassian-connect-spring-boot's leeway
	DefaultUninstallGrace = 30 * 24 * time.Hour
	DefaultSealKeyName    = "seal.key"
	DefaultForgeJWKSURL   = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
	DefaultOrgAPIURL      = "https://api.atlassian.com"
	DefaultKeepScans      = 10
	DefaultScanWorkers    = 2
	DefaultPointsPerHour  = 65_000
	// DefaultAuditPollInterval: DESIGN.md §8. Atlassian publishes no
	// number for events-stream, the endpoint it points pollers to
	// (https://developer.atlassian.com/cloud/admin/organization/poll-events-migration);
	// the older /events allows 10 requests a minute, and one poll a minute
	// per org stays far inside even that.
	DefaultAuditPollInterval = time.Minute
	// DefaultPersonalDataInterval is how often due accounts are reported
	// to Atlassian's personal data reporting API; each account is
	// reported once a cycle (7 days by default) whatever the interval.
	DefaultPersonalDataInterval = time.Hour
)

// Serve is the configuration of `seatlens serve`.
type Serve struct {
	Addr           string
	BaseURL        string
	DataDir        string
	InstallKeysURL string
	SealKeyFile    string // default DataDir/seal.key
	LogFormat      string // json | console
	LogLevel       string // trace | debug | info | warn | error
	ClockSkew      time.Duration
	UninstallGrace time.Duration
	BodyLimit      int64 // bytes, for every request

	// Forge Remote. Without ForgeAppID, Forge Invocation Tokens are refused.
	ForgeAppID     string // ari:cloud:ecosystem::app/<uuid> or the bare uuid
	ForgeJWKSURL   string
	ForgeICJWKSURL string // Isolated Cloud JWKS URL template with {icLabel}; empty refuses IC tokens

	// Scans. The Organizations API's URL is the operator's: a tenant gives
	// only its org id and key, so no tenant can make the server call a host
	// of its choosing.
	OrgAPIURL     string
	KeepScans     int
	ScanWorkers   int
	PointsPerHour int // the app's hourly pool of Jira points, shared by all tenants

	// Rescans (DESIGN.md §8).
	AuditPollInterval time.Duration // how often each org key's audit log is read

	// Personal data (app/privacy).
	PersonalDataInterval time.Duration // how often due accounts are reported
}

// Register adds the serve flags to fs.
func (c *Serve) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", DefaultAddr, "listen address (host:port)")
	fs.StringVar(&c.BaseURL, "base-url", "", "public base URL Atlassian calls: https://…, or http://<loopback host>:<port> for development (required)")
	c.registerData(fs)
	fs.StringVar(&c.InstallKeysURL, "install-keys-url", DefaultInstallKeysURL, "where signed-install public keys are fetched from (<url>/<kid>)")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format on stderr: json or console")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: trace, debug, info, warn or error")
	fs.Var((*Duration)(&c.ClockSkew), "clock-skew", "leeway for JWT exp/iat/nbf (e.g. 30s)")
	c.ClockSkew = DefaultClockSkew
	fs.Var((*Duration)(&c.UninstallGrace), "uninstall-grace", "how long an uninstalled tenant's data is kept before it is purged (e.g. 30d, 12h)")
	c.UninstallGrace = DefaultUninstallGrace
	fs.Int64Var(&c.BodyLimit, "body-limit", 1<<20, "largest request body accepted, in bytes")
	fs.StringVar(&c.ForgeAppID, "forge-app-id", "", "Forge app id from `forge register` (ari:cloud:ecosystem::app/<uuid>); empty: Forge Remote calls are refused")
	fs.StringVar(&c.ForgeJWKSURL, "forge-jwks-url", DefaultForgeJWKSURL, "JWKS that signs Forge Invocation Tokens")
	fs.StringVar(&c.ForgeICJWKSURL, "forge-ic-jwks-url", "", "Isolated Cloud JWKS URL template containing {icLabel} (from Atlassian at IC onboarding)")
	fs.StringVar(&c.OrgAPIURL, "org-api-url", DefaultOrgAPIURL, "the Organizations API every tenant's org key is used at")
	fs.IntVar(&c.KeepScans, "keep-scans", DefaultKeepScans, "finished scans kept per tenant")
	fs.IntVar(&c.ScanWorkers, "scan-workers", DefaultScanWorkers, "scans run at once across tenants")
	fs.IntVar(&c.PointsPerHour, "points-per-hour", DefaultPointsPerHour, "the app's hourly pool of Jira rate-limit points, shared by every tenant (65,000 at tier 1)")
	fs.Var((*Duration)(&c.AuditPollInterval), "audit-poll-interval", "how often the org audit log of each tenant with an org key is read (e.g. 1m)")
	c.AuditPollInterval = DefaultAuditPollInterval
	fs.Var((*Duration)(&c.PersonalDataInterval), "personal-data-interval", "how often each tenant's due accounts are reported to Atlassian's personal data API (each once a cycle; e.g. 1h)")
	c.PersonalDataInterval = DefaultPersonalDataInterval
}

func (c *Serve) registerData(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", DefaultDataDir, "data folder (bbolt database, seal key, admin socket)")
	fs.StringVar(&c.SealKeyFile, "seal-key-file", "", "AES-256 key sealing secrets at rest; created with mode 0600 if absent (default <data>/seal.key)")
}

// Validate checks the configuration and fills derived defaults.
func (c *Serve) Validate() error {
	if c.BaseURL == "" {
		return errors.New("--base-url (SEATLENS_BASE_URL) is required: the https URL Atlassian reaches this server at")
	}
	if err := descriptor.CheckBaseURL(strings.TrimSuffix(c.BaseURL, "/")); err != nil {
		return fmt.Errorf("--base-url: %w", err)
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q: want host:port (%v)", c.Addr, err)
	}
	u, err := url.Parse(c.InstallKeysURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("--install-keys-url %q must be an absolute http(s) URL without query", c.InstallKeysURL)
	}
	switch c.LogFormat {
	case "json", "console":
	default:
		return fmt.Errorf("--log-format %q: want json or console", c.LogFormat)
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", c.LogLevel)
	}
	if c.ClockSkew < 0 || c.ClockSkew > 5*time.Minute {
		return fmt.Errorf("--clock-skew %s: want 0s..5m", c.ClockSkew)
	}
	if c.UninstallGrace < 0 || c.UninstallGrace > 3650*24*time.Hour {
		return fmt.Errorf("--uninstall-grace %s: want 0..3650d", c.UninstallGrace)
	}
	if c.ForgeAppID != "" && !forgeAppID.MatchString(c.ForgeAppID) {
		return fmt.Errorf("--forge-app-id %q: want ari:cloud:ecosystem::app/<uuid> or the uuid", c.ForgeAppID)
	}
	if u, err := url.Parse(c.ForgeJWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--forge-jwks-url %q must be an absolute http(s) URL", c.ForgeJWKSURL)
	}
	if c.ForgeICJWKSURL != "" && (strings.Count(c.ForgeICJWKSURL, "{icLabel}") != 1 || !strings.HasPrefix(c.ForgeICJWKSURL, "https://")) {
		return fmt.Errorf("--forge-ic-jwks-url %q must be an https URL containing {icLabel} once", c.ForgeICJWKSURL)
	}
	if c.OrgAPIURL == "" {
		c.OrgAPIURL = DefaultOrgAPIURL
	}
	if u, err := url.Parse(c.OrgAPIURL); err != nil || u.Host == "" || u.RawQuery != "" || u.User != nil ||
		!(u.Scheme == "https" || u.Scheme == "http" && descriptor.IsLoopbackHost(u.Hostname())) {
		return fmt.Errorf("--org-api-url %q: want an https URL (http only to a loopback host)", c.OrgAPIURL)
	}
	c.OrgAPIURL = strings.TrimSuffix(c.OrgAPIURL, "/")
	if c.KeepScans == 0 {
		c.KeepScans = DefaultKeepScans
	}
	if c.KeepScans < 1 || c.KeepScans > 1000 {
		return fmt.Errorf("--keep-scans %d: want 1..1000", c.KeepScans)
	}
	if c.PointsPerHour == 0 {
		c.PointsPerHour = DefaultPointsPerHour
	}
	if c.PointsPerHour < 100 || c.PointsPerHour > 10_000_000 {
		return fmt.Errorf("--points-per-hour %d: want 100..10000000", c.PointsPerHour)
	}
	if c.ScanWorkers == 0 {
		c.ScanWorkers = DefaultScanWorkers
	}
	if c.ScanWorkers < 1 || c.ScanWorkers > 64 {
		return fmt.Errorf("--scan-workers %d: want 1..64", c.ScanWorkers)
	}
	if c.AuditPollInterval == 0 {
		c.AuditPollInterval = DefaultAuditPollInterval
	}
	if c.AuditPollInterval < time.Second || c.AuditPollInterval > 24*time.Hour {
		return fmt.Errorf("--audit-poll-interval %s: want 1s..24h", c.AuditPollInterval)
	}
	if c.PersonalDataInterval == 0 {
		c.PersonalDataInterval = DefaultPersonalDataInterval
	}
	if c.PersonalDataInterval < time.Second || c.PersonalDataInterval > 24*time.Hour {
		return fmt.Errorf("--personal-data-interval %s: want 1s..24h", c.PersonalDataInterval)
	}
	if c.BodyLimit < 64<<10 || c.BodyLimit > 64<<20 {
		return fmt.Errorf("--body-limit %d: want 65536..67108864 bytes", c.BodyLimit)
	}
	return c.validateData()
}

func (c *Serve) validateData() error {
	if c.DataDir == "" {
		return errors.New("--data must name a folder")
	}
	if c.SealKeyFile == "" {
		c.SealKeyFile = filepath.Join(c.DataDir, DefaultSealKeyName)
	}
	return nil
}

var forgeAppID = regexp.MustCompile(`^(ari:cloud:ecosystem::app/)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Data is the configuration of commands that only need the data folder
// (backup, restore).
type Data struct{ s Serve }

// Register adds --data and --seal-key-file to fs.
func (d *Data) Register(fs *flag.FlagSet) { d.s.registerData(fs) }

// Validate fills the seal key default.
func (d *Data) Validate() error { return d.s.validateData() }

// Dir is the data folder.
func (d *Data) Dir() string { return d.s.DataDir }

// SealKeyFile is the seal key path.
func (d *Data) SealKeyFile() string { return d.s.SealKeyFile }

// Parse parses args into fs, then sets every flag not given on the command
// line from its environment twin. getenv is os.Getenv outside tests.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// EnvName is the environment twin of a flag: SEATLENS_ + upper snake case.
func EnvName(flagName string) string {
	return "SEATLENS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Duration is a flag value accepting Go durations and whole days ("30d").
type Duration time.Duration

func (d *Duration) String() string {
	if d == nil {
		return ""
	}
	v := time.Duration(*d)
	if v != 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}

// Set parses "90s", "12h", "30d".
func (d *Duration) Set(s string) error {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err != nil || n < 0 || n > 100*365 { // beyond a century the nanoseconds overflow
			return fmt.Errorf("%q: want a whole number of days such as 30d (at most 36500d)", s)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: want a duration such as 30s, 12h or 30d", s)
	}
	*d = Duration(v)
	return nil
}
