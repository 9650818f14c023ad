// Command seatlens is the Seatlens app server and its tools. It only parses
// flags and wires packages together; see README.md for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/seatlens/seatlens/app/atlassian"
)

// errUsage marks a mistake on the command line (exit status 2).
var errUsage = errors.New("usage")

const usage = `seatlens — why is each Atlassian Cloud seat still billable?

Usage:
  seatlens demo    [--addr A] [--users N]   the app and a simulated site in one process
  seatlens serve   --base-url URL [flags]   run the app server Atlassian talks to
  seatlens backup  --out FILE [--data DIR]  consistent copy of the data (works while serving)
  seatlens restore --from FILE [--data DIR] restore a backup into an empty data folder
  seatlens sim     [--addr A] [--users N --seed S]
                                            serve a simulated Atlassian Cloud site
  seatlens scan    --site URL --email E --token T [--org-id ID --org-key K]
                   [--activity-csv FILE] [--settings FILE] [--format json|csv|html] [--out FILE]
                                            explain every seat of a site from the command line
  seatlens verify  FILE [--key FINGERPRINT]  check an evidence file offline (hash chain and signature)
  seatlens tenant  export|delete --client-key KEY [--out FILE] [--data DIR]
                                            one tenant's data as JSON, or its deletion now
  seatlens manifest [--base-url URL] [--forge-app-id ID]
                                            print the Connect-on-Forge manifest.yml
  seatlens version                          print the build version

Every flag has an environment twin: --base-url is SEATLENS_BASE_URL.
Run "seatlens <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, errorLine(err))
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, errorLine(err))
		os.Exit(1)
	}
}

// errorLine is how a failure reaches the terminal: one line, whatever a
// display name or an Atlassian message in it holds (atlassian.Printable).
func errorLine(err error) string {
	return "seatlens: " + atlassian.Printable(err.Error())
}

// run dispatches a command; stdout carries only command output.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		return demo(ctx, rest, stdout, stderr, getenv)
	case "serve":
		return serve(ctx, rest, stderr, getenv)
	case "backup":
		return backup(ctx, rest, stdout, stderr, getenv)
	case "restore":
		return restore(ctx, rest, stdout, stderr, getenv)
	case "sim":
		return sim(ctx, rest, stdout, stderr, getenv)
	case "manifest":
		return manifest(ctx, rest, stdout, stderr, getenv)
	case "scan":
		return scanCmd(ctx, rest, stdout, stderr, getenv)
	case "verify":
		return verifyCmd(rest, stdout, stderr, getenv)
	case "tenant":
		return tenantCmd(ctx, rest, stdout, stderr, getenv)
	case "version":
		return version(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}
