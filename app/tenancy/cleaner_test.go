package tenancy

import (
	"errors"
	"testing"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/review"
)

func TestRefusalsInWords(t *testing.T) {
	for _, c := range []struct {
		err  error
		want error
	}{
		{&atlassian.APIError{StatusCode: 409, Code: "ADMIN-409-3"}, review.ErrLicenceLimit},
		{&atlassian.APIError{StatusCode: 403, Code: "ADMIN-403-5"}, review.ErrGroupSynced},
		{&atlassian.APIError{StatusCode: 404, Code: "ADMIN-404-8"}, review.ErrGone},
	} {
		if got := refusal(c.err); !errors.Is(got, c.want) || !errors.Is(got, c.err) {
			t.Errorf("%v → %v, want it to be %v and keep the cause", c.err, got, c.want)
		}
	}
	if err := refusal(errors.New("network")); errors.Is(err, review.ErrGone) {
		t.Error("a network error named a refusal")
	}
	if refusal(nil) != nil {
		t.Error("no error became one")
	}
}
