package atlassian

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable makes text that came from Atlassian (a display name, a group
// name, an error message) safe to print on one line of a terminal: control
// characters (newlines, tabs, the escape that starts a terminal control
// sequence, C1 controls) become spaces, invisible format characters that
// reorder or hide text (bidirectional overrides, zero-width joiners) are
// dropped, invalid UTF-8 becomes U+FFFD, and runs of spaces shrink to one.
// Printed or logged, a name can then neither forge a second line nor
// recolour, move or clear the screen.
func Printable(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r < ' ' || r == 0x7f || r >= 0x80 && !printableRune(r) || r == ' ' && i+1 < len(s) && s[i+1] == ' ' {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			r = utf8.RuneError
		case unicode.IsControl(r) || unicode.IsSpace(r):
			r = ' '
		case unicode.Is(unicode.Cf, r):
			continue
		}
		if r == ' ' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// printableRune reports whether a non-ASCII rune may be printed as it is.
func printableRune(r rune) bool {
	return !unicode.IsControl(r) && !unicode.Is(unicode.Cf, r) && !unicode.IsSpace(r)
}
