package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// flagSource names where the value of the flag name came from, for
// messages: "--name", or "$env" when the flag was not given and the
// environment variable env was set.
func flagSource(fs *flag.FlagSet, name, env string) string {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	if !given && env != "" && os.Getenv(env) != "" {
		return "$" + env
	}
	return dashes(name)
}

// checkAddr checks the demo's listen address, from source, before
// anything is created, and returns its host.
func checkAddr(addr, source string) (host string, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", usageError("demo", fmt.Sprintf("%s %q: want HOST:PORT, as in 127.0.0.1:8080", source, addr))
	}
	if port != "" {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return "", usageError("demo", fmt.Sprintf("%s %q: %q is not a port; want a number from 0 to 65535, as in 127.0.0.1:8080", source, addr, port))
		}
	}
	return host, nil
}

// makeDataDir makes sure that dir, the demo's data directory given by
// source, exists. It creates dir itself if its parent exists, but never
// missing ancestors: a path whose parent is missing is more likely a typo
// than a wish.
func makeDataDir(dir, source string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return &cliError{msg: fmt.Sprintf("%s %s: not a directory", source, dir), code: exitUsage,
			hints: []string{"name a directory, or one to create in an existing directory"}}
	case !errors.Is(err, os.ErrNotExist):
		return failure(fmt.Sprintf("data directory: %v", err), permissionHint(err, filepath.Dir(dir)))
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if pi, err := os.Stat(parent); err != nil || !pi.IsDir() {
		return &cliError{msg: fmt.Sprintf("%s %s: no directory %s to create it in", source, dir, parent), code: exitUsage,
			hints: []string{fmt.Sprintf("keycard creates the data directory, not its parents: create them first (mkdir -p %s), or choose another directory", parent)}}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return failure(fmt.Sprintf("cannot create the data directory: %v", err), permissionHint(err, parent))
	}
	return nil
}

// permissionHint returns a hint for err if it is a permission error on
// dir, or "".
func permissionHint(err error, dir string) string {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Sprintf("keycard may not write to %s: choose a data directory it may write to, with --data", dir)
	}
	return ""
}

// listenError explains a failure to listen on addr, with a hint that fits
// its cause.
func listenError(addr, source string, err error) error {
	host, _, _ := net.SplitHostPort(addr)
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return failure(err.Error(), fmt.Sprintf("is another server using that port? Choose another with %s, as in 127.0.0.1:8081", source))
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return failure(err.Error(), fmt.Sprintf("%s is not an address of this machine: listen on 127.0.0.1, or 0.0.0.0 for every address", host))
	case errors.Is(err, syscall.EACCES), errors.Is(err, os.ErrPermission):
		return failure(err.Error(), fmt.Sprintf("ports below 1024 need privileges: choose a higher port with %s, as in 127.0.0.1:8080", source))
	case errors.As(err, &dns):
		return failure(err.Error(), fmt.Sprintf("the host %q in %s does not resolve: use an IP address, or localhost", host, source))
	}
	return failure(err.Error())
}

// certError explains a failure to load or create the demo's TLS
// certificate at path.
func certError(path string, err error) error {
	msg := fmt.Sprintf("TLS certificate: %v", err)
	var pe *os.PathError
	switch {
	case errors.Is(err, os.ErrPermission):
		return failure(msg, fmt.Sprintf("keycard may not read or write %s: check its mode and its directory's, or choose another --data", path))
	case errors.As(err, &pe):
		return failure(msg)
	}
	// It parsed as neither a certificate nor a key.
	return failure(msg, fmt.Sprintf("%s is not the demo's certificate and key: delete it, and the demo makes a new self-signed one", path))
}
