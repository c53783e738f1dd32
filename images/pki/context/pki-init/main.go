// pki-init prepares step-ca's configuration from environment variables and runs it.
//
//	pki-init serve    write /tmp/pki/ca.json (and the ACME template), make the CA on the
//	                  first start when /certs has none, then exec step-ca
//	pki-init health   GET https://127.0.0.1:$PKI_PORT/health, trusting the CA's root (the healthcheck)
//
// Compiled in the same build as step-ca, from the same Debian Go libraries, so the
// image needs no shell-out to a tool it does not ship (no step CLI, no openssl).
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.step.sm/crypto/jose"
)

// usage errors exit 64, as the catalog's other entrypoints do.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pki: %s\n", err)
	var u usageError
	if errors.As(err, &u) {
		os.Exit(64)
	}
	os.Exit(1)
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

type settings struct {
	name, port, data, certs, run string
	dnsNames, acmeNames          []string
	jwkName, jwkPasswordFile     string
	keyPasswordFile              string
	defaultDuration, maxDuration string
	logFormat                    string
}

var hostName = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

func list(name, value string, allowWildcard bool) ([]string, error) {
	var out []string
	for _, v := range strings.Split(value, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if !hostName.MatchString(v) || (!allowWildcard && strings.HasPrefix(v, "*.")) {
			return nil, usageError{fmt.Sprintf("%s: %q is not a DNS name", name, v)}
		}
		out = append(out, v)
	}
	return out, nil
}

func load() (settings, error) {
	s := settings{
		name:            env("PKI_NAME", "kiln pki"),
		port:            env("PKI_PORT", "9000"),
		data:            env("PKI_DATA", "/data"),
		certs:           env("PKI_CERTS", "/certs"),
		run:             "/tmp/pki",
		jwkName:         env("PKI_JWK_NAME", "admin"),
		jwkPasswordFile: env("PKI_JWK_PASSWORD_FILE", "/run/secrets/pki-jwk-password"),
		keyPasswordFile: env("PKI_KEY_PASSWORD_FILE", ""),
		defaultDuration: env("PKI_CERT_DURATION", "24h"),
		maxDuration:     env("PKI_CERT_MAX_DURATION", "168h"),
		logFormat:       env("PKI_LOG_FORMAT", "text"),
	}
	if p, err := strconv.Atoi(s.port); err != nil || p < 1024 || p > 65535 {
		return s, usageError{fmt.Sprintf("PKI_PORT must be a port from 1024 to 65535 (the image runs unprivileged), not %q", s.port)}
	}
	if strings.TrimSpace(s.name) == "" {
		return s, usageError{"PKI_NAME is empty"}
	}
	var err error
	if s.dnsNames, err = list("PKI_DNS_NAMES", env("PKI_DNS_NAMES", "localhost"), false); err != nil {
		return s, err
	}
	if len(s.dnsNames) == 0 {
		return s, usageError{"PKI_DNS_NAMES is empty: name at least one DNS name clients reach the CA by"}
	}
	if s.acmeNames, err = list("PKI_ACME_NAMES", env("PKI_ACME_NAMES", ""), true); err != nil {
		return s, err
	}
	for _, d := range []struct{ name, value string }{{"PKI_CERT_DURATION", s.defaultDuration}, {"PKI_CERT_MAX_DURATION", s.maxDuration}} {
		if _, err := time.ParseDuration(d.value); err != nil {
			return s, usageError{fmt.Sprintf("%s: %q is not a duration like 24h", d.name, d.value)}
		}
	}
	if s.logFormat != "text" && s.logFormat != "json" {
		return s, usageError{fmt.Sprintf("PKI_LOG_FORMAT must be text or json, not %q", s.logFormat)}
	}
	return s, nil
}

// The CA's files: from /certs when an operator gives them, else made once into /data/pki.
type authority struct{ root, crt, key, from string }

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func findAuthority(s settings) (authority, error) {
	given := authority{filepath.Join(s.certs, "root_ca.crt"), filepath.Join(s.certs, "intermediate_ca.crt"), filepath.Join(s.certs, "intermediate_ca_key"), s.certs}
	n := 0
	for _, p := range []string{given.root, given.crt, given.key} {
		if exists(p) {
			n++
		}
	}
	if n == 3 {
		return given, nil
	}
	if n > 0 {
		return given, usageError{fmt.Sprintf("%s holds only part of a CA: give root_ca.crt, intermediate_ca.crt and intermediate_ca_key, or none of them", s.certs)}
	}
	dir := filepath.Join(s.data, "pki")
	made := authority{filepath.Join(dir, "root_ca.crt"), filepath.Join(dir, "intermediate_ca.crt"), filepath.Join(dir, "intermediate_ca_key"), dir}
	if exists(made.crt) {
		return made, nil
	}
	return made, makeAuthority(s, made, dir)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// makeAuthority makes a root (10 years) and an intermediate (10 years, path length 0), ECDSA P-256
// as `step ca init` does; the root's key is kept beside them (0600) for renewing the intermediate.
func makeAuthority(s settings, a authority, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s is not writable (mount a volume at %s): %v", dir, s.data, err)
	}
	now := time.Now().Truncate(time.Second)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	rs, err := serial()
	if err != nil {
		return err
	}
	is, err := serial()
	if err != nil {
		return err
	}
	root := &x509.Certificate{
		SerialNumber: rs, Subject: pkix.Name{CommonName: s.name + " Root CA", Organization: []string{s.name}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLen: 1,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, rootKey.Public(), rootKey)
	if err != nil {
		return err
	}
	if root, err = x509.ParseCertificate(rootDER); err != nil {
		return err
	}
	inter := &x509.Certificate{
		SerialNumber: is, Subject: pkix.Name{CommonName: s.name + " Intermediate CA", Organization: []string{s.name}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, inter, root, interKey.Public(), rootKey)
	if err != nil {
		return err
	}
	for _, k := range []struct {
		path string
		key  *ecdsa.PrivateKey
	}{{filepath.Join(dir, "root_ca_key"), rootKey}, {a.key, interKey}} {
		der, err := x509.MarshalECPrivateKey(k.key)
		if err != nil {
			return err
		}
		if err := writePEM(k.path, "EC PRIVATE KEY", der, 0o600); err != nil {
			return err
		}
	}
	if err := writePEM(a.root, "CERTIFICATE", rootDER, 0o644); err != nil {
		return err
	}
	// The intermediate last: its presence marks a complete CA.
	if err := writePEM(a.crt, "CERTIFICATE", interDER, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(rootDER)
	fmt.Fprintf(os.Stderr, "pki: made a new CA in %s; root fingerprint %s\n", dir, hex.EncodeToString(sum[:]))
	return nil
}

// jwkProvisioner returns the JWK provisioner when a password file is mounted: its key pair is
// made once into /data/pki (the private key encrypted with that password, as step-ca stores it).
func jwkProvisioner(s settings) (map[string]any, error) {
	if !exists(s.jwkPasswordFile) {
		return nil, nil
	}
	password, err := os.ReadFile(s.jwkPasswordFile)
	if err != nil {
		return nil, fmt.Errorf("PKI_JWK_PASSWORD_FILE=%s is not readable: %v", s.jwkPasswordFile, err)
	}
	password = []byte(strings.TrimRight(string(password), "\r\n"))
	if len(password) < 8 {
		return nil, usageError{fmt.Sprintf("PKI_JWK_PASSWORD_FILE=%s holds fewer than 8 characters", s.jwkPasswordFile)}
	}
	pubPath := filepath.Join(s.data, "pki", "jwk.pub.json")
	encPath := filepath.Join(s.data, "pki", "jwk.key.jwe")
	if !exists(encPath) {
		if err := os.MkdirAll(filepath.Dir(encPath), 0o700); err != nil {
			return nil, err
		}
		jwk, err := jose.GenerateJWK("EC", "P-256", "ES256", "sig", "", 0)
		if err != nil {
			return nil, err
		}
		jwe, err := jose.EncryptJWK(jwk, password)
		if err != nil {
			return nil, err
		}
		enc, err := jwe.CompactSerialize()
		if err != nil {
			return nil, err
		}
		pub, err := json.Marshal(jwk.Public())
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
			return nil, err
		}
		if err := os.WriteFile(encPath, []byte(enc), 0o600); err != nil {
			return nil, err
		}
	}
	enc, err := os.ReadFile(encPath)
	if err != nil {
		return nil, err
	}
	// The password must open the stored key: a wrong secret is refused here, not at first use.
	if _, err := jose.Decrypt(enc, jose.WithPassword(password)); err != nil {
		return nil, usageError{fmt.Sprintf("PKI_JWK_PASSWORD_FILE=%s does not decrypt %s (the password it was made with)", s.jwkPasswordFile, encPath)}
	}
	var pub map[string]any
	raw, err := os.ReadFile(pubPath)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &pub); err != nil {
		return nil, fmt.Errorf("%s: %v", pubPath, err)
	}
	return map[string]any{"type": "JWK", "name": s.jwkName, "key": pub, "encryptedKey": string(enc)}, nil
}

// acmeTemplate is step-ca's default leaf template, preceded by the name policy: step-ca 0.19
// has no policy engine, so a SAN outside PKI_ACME_NAMES fails the template (and the order's finalize).
func acmeTemplate(names []string) string {
	var b strings.Builder
	if len(names) > 0 {
		var conds []string
		for _, n := range names {
			if strings.HasPrefix(n, "*.") {
				conds = append(conds, fmt.Sprintf("(hasSuffix %q .Value)", n[1:]))
			} else {
				conds = append(conds, fmt.Sprintf("(eq .Value %q)", n))
			}
		}
		fmt.Fprintf(&b, "{{- range .SANs }}{{- if not (or %s) }}{{ fail (printf \"%%s is outside PKI_ACME_NAMES\" .Value) }}{{- end }}{{- end }}\n", strings.Join(conds, " "))
	}
	b.WriteString(`{
	"subject": {{ toJson .Subject }},
	"sans": {{ toJson .SANs }},
{{- if typeIs "*rsa.PublicKey" .Insecure.CR.PublicKey }}
	"keyUsage": ["keyEncipherment", "digitalSignature"],
{{- else }}
	"keyUsage": ["digitalSignature"],
{{- end }}
	"extKeyUsage": ["serverAuth", "clientAuth"]
}
`)
	return b.String()
}

func writeConfig(s settings, a authority) (string, error) {
	if err := os.MkdirAll(s.run, 0o700); err != nil {
		return "", fmt.Errorf("%s is not writable (run with a tmpfs at /tmp): %v", s.run, err)
	}
	if err := os.MkdirAll(filepath.Join(s.data, "db"), 0o700); err != nil {
		return "", fmt.Errorf("%s is not writable (mount a volume there): %v", s.data, err)
	}
	tpl := filepath.Join(s.run, "acme.tpl")
	if err := os.WriteFile(tpl, []byte(acmeTemplate(s.acmeNames)), 0o600); err != nil {
		return "", err
	}
	claims := map[string]any{"defaultTLSCertDuration": s.defaultDuration, "maxTLSCertDuration": s.maxDuration}
	provisioners := []any{map[string]any{"type": "ACME", "name": "acme", "forceCN": true, "claims": claims, "options": map[string]any{"x509": map[string]any{"templateFile": tpl}}}}
	jwk, err := jwkProvisioner(s)
	if err != nil {
		return "", err
	}
	if jwk != nil {
		jwk["claims"] = claims
		provisioners = append(provisioners, jwk)
	}
	cfg := map[string]any{
		"root":      a.root,
		"crt":       a.crt,
		"key":       a.key,
		"address":   ":" + s.port,
		"dnsNames":  s.dnsNames,
		"logger":    map[string]any{"format": s.logFormat},
		"db":        map[string]any{"type": "badgerv2", "dataSource": filepath.Join(s.data, "db")},
		"authority": map[string]any{"provisioners": provisioners},
		"tls": map[string]any{
			"minVersion": 1.2, "maxVersion": 1.3, "renegotiation": false,
			"cipherSuites": []string{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		},
	}
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(s.run, "ca.json")
	return path, os.WriteFile(path, raw, 0o600)
}

func serve() error {
	s, err := load()
	if err != nil {
		return err
	}
	a, err := findAuthority(s)
	if err != nil {
		return err
	}
	cfg, err := writeConfig(s, a)
	if err != nil {
		return err
	}
	args := []string{"step-ca", cfg}
	if s.keyPasswordFile != "" {
		if !exists(s.keyPasswordFile) {
			return usageError{fmt.Sprintf("PKI_KEY_PASSWORD_FILE=%s does not exist", s.keyPasswordFile)}
		}
		args = append(args, "--password-file", s.keyPasswordFile)
	}
	acme := "any name"
	if len(s.acmeNames) > 0 {
		acme = strings.Join(s.acmeNames, ",")
	}
	fmt.Fprintf(os.Stderr, "pki: %q on :%s for %s (CA from %s); ACME at /acme/acme/directory for %s\n", s.name, s.port, strings.Join(s.dnsNames, ","), a.from, acme)
	return syscall.Exec("/usr/bin/step-ca", args, os.Environ())
}

func health() error {
	s, err := load()
	if err != nil {
		return err
	}
	a, err := findAuthorityQuiet(s)
	if err != nil {
		return err
	}
	pemRoot, err := os.ReadFile(a.root)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemRoot) {
		return fmt.Errorf("%s holds no certificate", a.root)
	}
	client := &http.Client{Timeout: 4 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: s.dnsNames[0]}}}
	resp, err := client.Get("https://127.0.0.1:" + s.port + "/health")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
		return fmt.Errorf("/health answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Println("ok")
	return nil
}

// findAuthorityQuiet locates the CA's files without making one (the healthcheck never writes).
func findAuthorityQuiet(s settings) (authority, error) {
	if exists(filepath.Join(s.certs, "root_ca.crt")) {
		return authority{root: filepath.Join(s.certs, "root_ca.crt")}, nil
	}
	return authority{root: filepath.Join(s.data, "pki", "root_ca.crt")}, nil
}

func main() {
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve()
	case "health":
		err = health()
	case "--version", "version":
		fmt.Println("pki-init (kiln pki)")
	case "-h", "--help":
		fmt.Println("usage: pki-init [serve|health]")
	default:
		err = usageError{fmt.Sprintf("unknown command %q (pki-init serve | health)", cmd)}
	}
	if err != nil {
		fail(err)
	}
}
