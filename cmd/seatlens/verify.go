package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/seatlens/seatlens/app/proof"
)

// verifyCmd runs `seatlens verify FILE [--key FINGERPRINT]`: it checks an
// evidence file offline (every event's hash and link, the signed head,
// the signature) and prints the key's fingerprint and a summary; any
// failure is one line naming what is wrong, and exit status 1.
func verifyCmd(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var key string
	fs := newFlagSet("verify", stderr)
	fs.StringVar(&key, "key", "", "the fingerprint the signing key must have (from an earlier evidence file or the panel)")
	// The file comes first, as in `seatlens verify FILE --key K`.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, getenv, func() error { return nil }); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		return fmt.Errorf("%w: verify needs the evidence file: seatlens verify FILE [--key FINGERPRINT]", errUsage)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	rep, err := proof.Verify(raw, key)
	if err != nil {
		var ve *proof.VerifyError
		if errors.As(err, &ve) {
			return fmt.Errorf("NOT verified: %s", ve.Error())
		}
		return err
	}
	fmt.Fprintf(stdout, "verified: key %s, events %d–%d\n", rep.Fingerprint, rep.FirstSeq, rep.LastSeq)
	if rep.Review != "" {
		approver := rep.ApprovedBy
		if approver == "" {
			approver = "nobody yet"
		}
		fmt.Fprintf(stdout, "review %s %q: approved by %s", rep.Review, rep.Title, approver)
		outcomes := make([]string, 0, len(rep.Counts))
		for k := range rep.Counts {
			outcomes = append(outcomes, k)
		}
		slices.Sort(outcomes)
		for _, k := range outcomes {
			fmt.Fprintf(stdout, "; %s %d", k, rep.Counts[k])
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
