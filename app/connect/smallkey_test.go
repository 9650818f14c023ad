package connect_test

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

type rsaKey = rsa.PrivateKey

var (
	smallOnce sync.Once
	small     *rsa.PrivateKey
)

// mustSmallKey is a 1024-bit key: Atlassian's keys are 2048 bits or more,
// and a weaker one must be refused.
func mustSmallKey() *rsa.PrivateKey {
	smallOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			panic(err)
		}
		small = k
	})
	return small
}
