// Package qsh computes Atlassian Connect query string hashes.
//
// A Connect JWT binds itself to one HTTP request through its "qsh" claim:
// the lower-case hex SHA-256 of the canonical request
//
//	METHOD "&" CANONICAL_URI "&" CANONICAL_QUERY
//
// built in these steps (Atlassian's HttpRequestCanonicalizer and atlassian-jwt;
// ../shared/atlassian/connect-protocol.md §3.5 with the 39 official vectors):
//
//  1. METHOD is upper-cased.
//  2. CANONICAL_URI is the path exactly as received (still percent-encoded),
//     without scheme, host, port and query, with the context path of the
//     receiving side removed (the app's base URL path for requests to the app,
//     "/wiki" for Confluence requests to the product).
//  3. Every "&" in that path becomes "%26"; an empty path becomes "/"; a
//     leading "/" is ensured; one trailing "/" is removed unless the path is "/".
//  4. The query is parsed as form data ("+" is a space, %XX decoded, a key
//     without "=" has the value ""), split on "&" only (a raw ";" is data, as
//     in Java and Node, unlike net/url), and the parameter "jwt" is dropped.
//  5. The values of each key are sorted by their decoded string, then each is
//     percent-encoded and they are joined with "," (the comma is not encoded).
//  6. Keys are sorted by their encoded form and emitted as name=values,
//     joined with "&"; no parameters gives the empty string.
//  7. Percent-encoding is RFC 3986: A–Z a–z 0–9 - . _ ~ stay, every other
//     UTF-8 byte becomes %XX with upper-case hex (space→%20, "*"→%2A).
//
// The package has no dependencies beyond the standard library so that the
// inbound verifier, the outbound signer and the simulated site share exactly
// one implementation.
package qsh

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ContextQSH is the fixed claim carried by context JWTs (AP.context.getToken)
// when the app opts into the context-qsh migration. It is a marker, not a hash.
const ContextQSH = "context-qsh"

// Canonical returns the canonical request string for method, the path as
// received (percent-encoded), the raw query (without "?") and the context
// path to strip (for example "/wiki" or the path of the app's base URL; ""
// for none).
func Canonical(method, rawPath, rawQuery, contextPath string) string {
	return canonical(method, rawPath, parseQuery(rawQuery), contextPath, false)
}

// CanonicalNodeOrder differs from Canonical only in how parameter names are
// sorted: by their decoded form, as Atlassian's Node library does, instead
// of their encoded form, as its Java canonicaliser (the products) does. The
// two agree on all official vectors and differ only for names whose
// encoding reorders them (for example ".a" and ":b"). A verifier may accept
// either: both describe the same set of parameters.
func CanonicalNodeOrder(method, rawPath, rawQuery, contextPath string) string {
	return canonical(method, rawPath, parseQuery(rawQuery), contextPath, true)
}

func canonical(method, rawPath string, params []param, contextPath string, byDecodedName bool) string {
	var b strings.Builder
	b.Grow(len(method) + len(rawPath) + 16*len(params) + 8)
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('&')
	b.WriteString(canonicalURI(rawPath, contextPath))
	b.WriteByte('&')
	writeCanonicalQuery(&b, params, byDecodedName)
	return b.String()
}

// CanonicalForm is Canonical with the parameters taken from an already
// parsed form (a POST body) instead of a raw query. Atlassian's own
// verifier falls back to it for POST and PUT requests with an empty query.
func CanonicalForm(method, rawPath string, form map[string][]string, contextPath string) string {
	params := make([]param, 0, len(form))
	for k, vs := range form {
		params = append(params, param{name: k, values: vs})
	}
	return canonical(method, rawPath, params, contextPath, false)
}

// Hash is the lower-case hex SHA-256 of a canonical request.
func Hash(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:])
}

// Of is Hash(Canonical(...)).
func Of(method, rawPath, rawQuery, contextPath string) string {
	return Hash(Canonical(method, rawPath, rawQuery, contextPath))
}

// SplitRequestURI splits a request target as received on the wire
// ("/path?query") into its raw path and raw query. An absolute-form target
// ("https://host/path?q") loses its scheme and authority.
func SplitRequestURI(requestURI string) (rawPath, rawQuery string) {
	if i := strings.Index(requestURI, "://"); i >= 0 && !strings.HasPrefix(requestURI, "/") {
		rest := requestURI[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			requestURI = rest[j:]
		} else {
			requestURI = ""
		}
	}
	rawPath, rawQuery, _ = strings.Cut(requestURI, "?")
	if i := strings.IndexByte(rawQuery, '#'); i >= 0 {
		rawQuery = rawQuery[:i]
	}
	return rawPath, rawQuery
}

func canonicalURI(path, contextPath string) string {
	contextPath = strings.TrimSuffix(contextPath, "/")
	if contextPath != "" && strings.HasPrefix(path, contextPath) {
		rest := path[len(contextPath):]
		// Strip only a whole segment: "/wiki" must not eat "/wikipedia".
		if rest == "" || rest[0] == '/' {
			path = rest
		}
	}
	if path == "" {
		return "/"
	}
	path = strings.ReplaceAll(path, "&", "%26")
	if path[0] != '/' {
		path = "/" + path
	}
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	return path
}

type param struct {
	name   string
	values []string
}

// parseQuery decodes a raw query the way Java's and Node's form parsers do.
// It keeps first-appearance order of names; sorting happens later.
func parseQuery(raw string) []param {
	if raw == "" {
		return nil
	}
	var params []param
	index := map[string]int{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, value = formDecode(name), formDecode(value)
		if name == "jwt" {
			continue
		}
		if i, ok := index[name]; ok {
			params[i].values = append(params[i].values, value)
			continue
		}
		index[name] = len(params)
		params = append(params, param{name: name, values: []string{value}})
	}
	return params
}

func writeCanonicalQuery(b *strings.Builder, params []param, byDecodedName bool) {
	type encoded struct {
		raw    string
		name   string
		values []string
	}
	list := make([]encoded, 0, len(params))
	for _, p := range params {
		if p.name == "jwt" {
			continue
		}
		vals := slices.Clone(p.values)
		// By decoded value (vector 22: ".1,.2,%3A1,%3A2"), in UTF-16 code
		// unit order as Java's String.compareTo and JavaScript's sort do.
		slices.SortFunc(vals, compareUTF16)
		for i, v := range vals {
			vals[i] = Encode(v)
		}
		list = append(list, encoded{raw: p.name, name: Encode(p.name), values: vals})
	}
	if byDecodedName {
		slices.SortFunc(list, func(a, b encoded) int { return compareUTF16(a.raw, b.raw) })
	} else {
		slices.SortFunc(list, func(a, b encoded) int { return strings.Compare(a.name, b.name) })
	}
	for i, p := range list {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		for j, v := range p.values {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v)
		}
	}
}

const upperHex = "0123456789ABCDEF"

// Encode percent-encodes s per RFC 3986 (unreserved characters kept).
func Encode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	out := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			out = append(out, c)
			continue
		}
		out = append(out, '%', upperHex[c>>4], upperHex[c&15])
	}
	return string(out)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// formDecode turns "+" into a space and decodes %XX. A malformed escape is
// kept literally, as Node's querystring does, so that a request carrying
// one is still hashed deterministically instead of being rejected here.
// Bytes that are not valid UTF-8 become U+FFFD, as Java's and Node's
// decoders into UTF-16 strings make them.
func formDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return validUTF8(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return validUTF8(string(out))
}

// validUTF8 replaces each byte that is not part of a valid UTF-8 sequence
// with U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // ranging yields RuneError for each invalid byte
		b.WriteRune(r)
	}
	return b.String()
}

// compareUTF16 orders strings by their UTF-16 code units, the order of
// Java's String.compareTo and JavaScript's default sort. It differs from
// Go's byte order only between supplementary-plane characters (surrogate
// pairs, 0xD800–0xDFFF) and characters from U+E000 to U+FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua != ub {
				return cmpInt(ua, ub)
			}
			// Same high surrogate: compare the low surrogates.
			_, la := utf16.EncodeRune(ra)
			_, lb := utf16.EncodeRune(rb)
			return cmpInt(la, lb)
		}
		a, b = a[na:], b[nb:]
	}
	return cmpInt(len(a), len(b))
}

func firstUnit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}

func cmpInt[T int | rune](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
