package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/archwaydev/archway/internal/certs"
)

// pki is the key material of one control plane, as PEM.
type pki struct {
	caCert             []byte // signs the serving and client certificates
	servingCert        []byte // kube-apiserver's serving certificate
	servingKey         []byte
	clientCert         []byte // admin client, group system:masters
	clientKey          []byte
	serviceAccountKey  []byte // signs service-account tokens
	serviceAccountPub  []byte
	caFile             string // the files below are written by writeFiles
	servingCertFile    string
	servingKeyFile     string
	serviceAccountFile string
	serviceAccountPubF string
}

// newPKI generates a CA, a serving certificate for 127.0.0.1/localhost and
// the in-cluster names, an admin client certificate and a service-account
// signing key. Everything is valid for one day.
func newPKI() (*pki, error) {
	now := time.Now()
	ca, err := certs.NewCA("archway-testenv-ca", now, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	serving := certs.ServerTemplate([]string{"127.0.0.1", "::1", serviceIP, "localhost", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}, now, 24*time.Hour)
	serving.Subject = pkix.Name{CommonName: "kube-apiserver"}
	servingCert, servingKey, err := ca.Issue(serving)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	clientCert, clientKey, err := ca.Issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "archway-testenv-admin", Organization: []string{"system:masters"}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate service-account key: %w", err)
	}
	saKeyPEM, err := certs.KeyPEM(saKey)
	if err != nil {
		return nil, fmt.Errorf("service-account key: %w", err)
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("service-account public key: %w", err)
	}
	return &pki{
		caCert:            ca.CertPEM,
		servingCert:       servingCert,
		servingKey:        servingKey,
		clientCert:        clientCert,
		clientKey:         clientKey,
		serviceAccountKey: saKeyPEM,
		serviceAccountPub: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPubDER}),
	}, nil
}

// writeFiles writes the files kube-apiserver reads into dir and records
// their paths.
func (p *pki) writeFiles(dir string) error {
	files := []struct {
		path *string
		name string
		data []byte
	}{
		{&p.caFile, "ca.crt", p.caCert},
		{&p.servingCertFile, "apiserver.crt", p.servingCert},
		{&p.servingKeyFile, "apiserver.key", p.servingKey},
		{&p.serviceAccountFile, "sa.key", p.serviceAccountKey},
		{&p.serviceAccountPubF, "sa.pub", p.serviceAccountPub},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		*f.path = path
	}
	return nil
}
