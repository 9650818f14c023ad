package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

const (
	sealKeySize       = 32
	sealVersion  byte = 1
	sealNonceLen      = 12
	sealOverhead      = 1 + sealNonceLen + 16 // version, nonce, GCM tag

	fingerprintDomain = "seatlens-seal-key-fingerprint"
)

var errUnseal = errors.New("sealed value cannot be opened (wrong key, wrong context or tampered with)")

// LoadOrCreateSealKey returns the 32-byte key stored hex-encoded at path,
// creating it on first use. Key material never appears in an error: a
// leaked log line must not leak the key.
func LoadOrCreateSealKey(path string) ([]byte, error) {
	key, err := readSealKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, err = createSealKey(path)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it between our read and our create.
		return readSealKey(path)
	}
	return key, err
}

// LoadSealKey is LoadOrCreateSealKey for a data folder that already holds a
// database: a missing key file is an error wrapping fs.ErrNotExist, never a
// reason to create one. A fresh key there could not open the database, and
// creating it would hide the real problem (a wrong path, a lost key).
func LoadSealKey(path string) ([]byte, error) {
	key, err := readSealKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: open seal key: %w", err)
	}
	return key, err
}

func readSealKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("store: open seal key: %w", err)
	}
	defer f.Close()

	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store: stat seal key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("store: seal key %s is not a regular file", path)
	}
	// Windows has no meaningful Unix permission bits to check.
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("store: seal key %s has mode %04o, which lets other users read it; run `chmod 600 %s` (and consider rotating the key if others may have read it)",
			path, perm, path)
	}

	// Reading one byte past the longest valid file tells "too long" apart.
	buf, err := io.ReadAll(io.LimitReader(f, 2*sealKeySize+2))
	if err != nil {
		return nil, fmt.Errorf("store: read seal key: %w", err)
	}
	text := strings.TrimSuffix(string(buf), "\n")
	malformed := fmt.Errorf("store: seal key %s is malformed: want exactly %d hex characters and an optional newline", path, 2*sealKeySize)
	if len(text) != 2*sealKeySize {
		return nil, malformed
	}
	// hex's own error quotes the offending character, which is key material.
	key, err := hex.DecodeString(text)
	if err != nil {
		return nil, malformed
	}
	return key, nil
}

func createSealKey(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return nil, fmt.Errorf("store: create seal key folder: %w", err)
	}
	key := make([]byte, sealKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("store: generate seal key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, fmt.Errorf("store: create seal key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A half-written key file would be refused as malformed on every
		// later start, so do not leave one behind.
		_ = os.Remove(path)
		return nil, fmt.Errorf("store: write seal key: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return key, nil
}

// Sealer encrypts secrets at rest with AES-256-GCM.
type Sealer struct {
	aead cipher.AEAD
	fp   string
}

// NewSealer needs exactly 32 key bytes. The Sealer does not keep the slice,
// so callers may wipe it afterwards.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != sealKeySize {
		return nil, fmt.Errorf("store: seal key must be %d bytes, got %d", sealKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: seal key: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(fingerprintDomain))
	h.Write(key)
	return &Sealer{aead: aead, fp: hex.EncodeToString(h.Sum(nil))[:16]}, nil
}

// Seal encrypts plaintext bound to additionalData: opening needs the same
// additionalData, so a sealed value copied into another context is useless.
// Output: version byte || random nonce || ciphertext and tag.
func (s *Sealer) Seal(plaintext, additionalData []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, errors.New("store: seal: Sealer not initialized by NewSealer")
	}
	out := make([]byte, 1+sealNonceLen, sealOverhead+len(plaintext))
	out[0] = sealVersion
	nonce := out[1 : 1+sealNonceLen]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("store: seal: nonce: %w", err)
	}
	return s.aead.Seal(out, nonce, plaintext, additionalData), nil
}

// Open reverses Seal. Every failure, including a wrong key, looks the same.
func (s *Sealer) Open(sealed, additionalData []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, errors.New("store: open sealed: Sealer not initialized by NewSealer")
	}
	if len(sealed) < sealOverhead {
		return nil, fmt.Errorf("store: open sealed: %d bytes is too short: %w", len(sealed), errUnseal)
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("store: open sealed: unknown format version %d", sealed[0])
	}
	nonce := sealed[1 : 1+sealNonceLen]
	pt, err := s.aead.Open(nil, nonce, sealed[1+sealNonceLen:], additionalData)
	if err != nil {
		return nil, fmt.Errorf("store: open sealed: %w", errUnseal)
	}
	return pt, nil
}

// Fingerprint names the key without revealing it, so operators can tell
// which key sealed a database.
func (s *Sealer) Fingerprint() string {
	if s == nil {
		return ""
	}
	return s.fp
}

// syncDir makes a just-created or renamed directory entry durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: sync folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync folder: %w", err)
	}
	return nil
}
