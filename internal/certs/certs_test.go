package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/archwaydev/archway/internal/certs"
)

func TestNewServing(t *testing.T) {
	now := time.Now()
	s, err := certs.NewServing("test-ca", []string{"archway.archway.svc", "127.0.0.1"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(s.CertPEM, s.KeyPEM); err != nil {
		t.Fatalf("key pair: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CAPEM) {
		t.Fatal("bad CA PEM")
	}
	block, _ := pem.Decode(s.CertPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"archway.archway.svc", "127.0.0.1"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "other.svc", Roots: pool, CurrentTime: now}); err == nil {
		t.Error("certificate verifies for a host it was not issued for")
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "127.0.0.1", Roots: pool, CurrentTime: now.Add(2 * time.Hour)}); err == nil {
		t.Error("certificate verifies after its validity")
	}
	if _, err := certs.NewServing("ca", nil, now, time.Hour); err == nil {
		t.Error("no hosts: want an error")
	}
}
