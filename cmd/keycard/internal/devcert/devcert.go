// Package devcert makes and keeps a self-signed TLS certificate for a
// development server on this machine: ECDSA P-256, valid for localhost,
// 127.0.0.1 and ::1 (and any other host asked for), stored with its private
// key in one PEM file of mode 0600.
package devcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"slices"
	"time"
)

// Lifetime is how long a new certificate is valid.
const Lifetime = 365 * 24 * time.Hour

// LoadOrCreate returns the certificate kept at path, making a new one if
// there is none, if it expires within a day, or if it does not cover host
// (a name or an IP address; "" for none). created reports whether it made
// one.
func LoadOrCreate(path, host string, now time.Time) (cert tls.Certificate, created bool, err error) {
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "" // listening on every address: cover the loopback ones
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		cert, err = tls.X509KeyPair(data, data)
		if err != nil {
			return cert, false, fmt.Errorf("%s: %w", path, err)
		}
		if usable(cert.Leaf, host, now) {
			return cert, false, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return cert, false, err
	}
	data, err = create(host, now)
	if err != nil {
		return cert, false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return cert, false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return cert, false, err
	}
	cert, err = tls.X509KeyPair(data, data)
	return cert, true, err
}

func usable(leaf *x509.Certificate, host string, now time.Time) bool {
	if leaf == nil || now.Add(24*time.Hour).After(leaf.NotAfter) {
		return false
	}
	return host == "" || leaf.VerifyHostname(host) == nil
}

// hosts returns the names and addresses a certificate for host covers.
func hosts(host string) (names []string, ips []net.IP) {
	names = []string{"localhost"}
	ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	if host == "" {
		return names, ips
	}
	if ip := net.ParseIP(host); ip != nil {
		if !slices.ContainsFunc(ips, ip.Equal) && !ip.IsUnspecified() {
			ips = append(ips, ip)
		}
	} else if !slices.Contains(names, host) {
		names = append(names, host)
	}
	return names, ips
}

// create returns a PEM file holding a new certificate and its key.
func create(host string, now time.Time) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	names, ips := hosts(host)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Keycard demo (self-signed)", Organization: []string{"Keycard demo"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(Lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...)
	return out, nil
}
