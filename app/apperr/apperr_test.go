package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestKindSurvivesWrapping(t *testing.T) {
	cause := errors.New("disk on fire")
	inner := E("store.get", Unavailable, "", cause)
	outer := fmt.Errorf("loading tenant: %w", E("lifecycle.installed", Other, "", inner))
	if got := KindOf(outer); got != Unavailable {
		t.Fatalf("KindOf = %v, want unavailable", got)
	}
	if got := StatusFor(outer); got != http.StatusServiceUnavailable {
		t.Fatalf("StatusFor = %d", got)
	}
	if got := SafeMessage(outer); got != "Service Unavailable" {
		t.Fatalf("SafeMessage = %q", got)
	}
	if !errors.Is(outer, cause) {
		t.Fatal("cause lost")
	}
}

func TestSafeMessageHidesCause(t *testing.T) {
	err := E("connect.verify", Unauthorized, "token expired", errors.New("secret=abc"))
	if got := SafeMessage(err); got != "token expired" {
		t.Fatalf("SafeMessage = %q", got)
	}
	if StatusFor(err) != http.StatusUnauthorized {
		t.Fatal("want 401")
	}
	if StatusFor(errors.New("plain")) != http.StatusInternalServerError {
		t.Fatal("plain errors are 500")
	}
	if SafeMessage(errors.New("secret=abc")) != "Internal Server Error" {
		t.Fatal("a plain error's text must not reach the client")
	}
}
