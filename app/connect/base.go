package connect

import (
	"fmt"
	"net/url"
	"strings"
)

// splitBase normalises the app's base URL (no trailing "/") and returns its
// path, which is stripped from request paths before hashing.
func splitBase(baseURL string) (base, path string, err error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", "", fmt.Errorf("connect: base URL %q is not an absolute URL", baseURL)
	}
	base = strings.TrimSuffix(baseURL, "/")
	return base, strings.TrimSuffix(u.EscapedPath(), "/"), nil
}

// BasePath returns the path of baseURL without a trailing "/".
func BasePath(baseURL string) (string, error) {
	_, p, err := splitBase(baseURL)
	return p, err
}
