package webhook

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CertReloader serves a TLS certificate from a pair of PEM files and
// reloads it when either file changes (modification time or size), so a
// renewed certificate (cert-manager, a rotated Secret volume) is picked up
// without a restart. Safe for concurrent use.
type CertReloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp
	checked time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// certCheckInterval bounds how often the files are stat'ed.
const certCheckInterval = time.Second

// NewCertReloader loads the key pair once and fails if it cannot. logger
// (nil discards) hears about failed reloads, which keep the old certificate.
func NewCertReloader(certFile, keyFile string, logger *slog.Logger) (*CertReloader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, logger: logger}
	stamp, err := r.stat()
	if err != nil {
		return nil, err
	}
	if err := r.load(stamp); err != nil {
		return nil, err
	}
	return r, nil
}

// GetCertificate is a tls.Config.GetCertificate that reloads the files when
// they changed since the last load.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= certCheckInterval {
		r.checked = now
		stamp, err := r.stat()
		switch {
		case err != nil:
			r.logger.Warn("tls certificate files unreadable; keeping the loaded certificate", "err", err)
		case stamp != r.stamp:
			if err := r.load(stamp); err != nil {
				r.logger.Warn("tls certificate reload failed; keeping the loaded certificate", "err", err)
			} else {
				r.logger.Info("tls certificate reloaded", "cert", r.certFile)
			}
		}
	}
	return r.cert, nil
}

func (r *CertReloader) stat() ([2]fileStamp, error) {
	var s [2]fileStamp
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return s, fmt.Errorf("tls certificate: %w", err)
		}
		s[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return s, nil
}

// load reads the pair; the caller holds mu (or owns r).
func (r *CertReloader) load(stamp [2]fileStamp) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s, key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp, r.checked = &cert, stamp, time.Now()
	return nil
}
