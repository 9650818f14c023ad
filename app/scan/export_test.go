package scan

import "time"

// SetForgetWait shortens how long Forget waits for the tenant, for tests.
func SetForgetWait(d time.Duration) (restore func()) {
	old := forgetWait
	forgetWait = d
	return func() { forgetWait = old }
}
