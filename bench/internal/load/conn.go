package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection with its cookie jar.
type conn struct {
	host string
	c    net.Conn
	r    *bufio.Reader
	buf  []byte
	keep bool              // apply Set-Cookie headers to the jar
	jar  map[string]string // cookie name to value
	hdr  string            // the Cookie header the jar makes
	body []byte            // the last response's body, if capture
	// capture keeps the next responses' bodies in body.
	capture bool
}

func dial(host string) (*conn, error) {
	c := &conn{host: host, jar: make(map[string]string)}
	return c, c.connect()
}

func (c *conn) connect() error {
	nc, err := net.DialTimeout("tcp", c.host, 5*time.Second)
	if err != nil {
		return err
	}
	c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	return nil
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
	}
}

// get sends GET path and reads the whole response. It reconnects once if
// the server closed the connection.
func (c *conn) get(path string) (int, error) {
	st, err := c.roundTrip(path)
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)) {
		c.close()
		if err := c.connect(); err != nil {
			return 0, err
		}
		st, err = c.roundTrip(path)
	}
	return st, err
}

func (c *conn) roundTrip(path string) (int, error) {
	b := c.buf[:0]
	b = append(b, "GET "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.host...)
	b = append(b, "\r\nUser-Agent: keycard-loadgen\r\nAccept: */*\r\n"...)
	if c.hdr != "" {
		b = append(b, "Cookie: "...)
		b = append(b, c.hdr...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.buf = b
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.c.Write(b); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, chunked, closing, changed := -1, false, false, false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case asciiEqual(k, "content-length"):
			length, err = strconv.Atoi(string(v))
			if err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		case asciiEqual(k, "transfer-encoding"):
			chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
		case asciiEqual(k, "connection"):
			closing = bytes.EqualFold(v, []byte("close"))
		case asciiEqual(k, "set-cookie") && c.keep:
			c.setCookie(string(v))
			changed = true
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		err = c.skipChunked()
	case length >= 0 && c.capture:
		c.body = slices.Grow(c.body, length)[:length]
		_, err = io.ReadFull(c.r, c.body)
	case length >= 0:
		_, err = c.r.Discard(length)
	default:
		closing = true
		_, err = io.Copy(io.Discard, c.r)
	}
	if err != nil {
		return 0, err
	}
	if changed {
		c.makeHeader()
	}
	if closing {
		c.close()
		if err := c.connect(); err != nil {
			return 0, err
		}
	}
	return status, nil
}

func (c *conn) skipChunked() error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		sz, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(sz), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", sz)
		}
		if n == 0 {
			for { // trailers, then the empty line
				line, err := c.r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if c.capture {
			start := len(c.body)
			c.body = slices.Grow(c.body, int(n))[:start+int(n)]
			if _, err := io.ReadFull(c.r, c.body[start:]); err != nil {
				return err
			}
			n = 0
		}
		if _, err := c.r.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}

// setCookie applies one Set-Cookie header value: an empty value, a
// Max-Age of 0 or less, or an Expires in the past removes the cookie.
func (c *conn) setCookie(v string) {
	pair, attrs, _ := strings.Cut(v, ";")
	name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
	remove := value == ""
	for _, a := range strings.Split(attrs, ";") {
		k, av, _ := strings.Cut(strings.TrimSpace(a), "=")
		switch strings.ToLower(k) {
		case "max-age":
			if n, err := strconv.Atoi(av); err == nil && n <= 0 {
				remove = true
			}
		case "expires":
			if t, err := http.ParseTime(av); err == nil && t.Before(time.Now()) {
				remove = true
			}
		}
	}
	if remove {
		delete(c.jar, name)
	} else {
		c.jar[name] = value
	}
}

func (c *conn) makeHeader() {
	names := make([]string, 0, len(c.jar))
	for k := range c.jar {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(c.jar[k])
	}
	c.hdr = b.String()
}

func asciiEqual(b []byte, lower string) bool {
	return len(b) == len(lower) && bytes.EqualFold(b, []byte(lower))
}

// WaitHealthy waits, up to 15 seconds, until GET /health on host answers
// 200.
func WaitHealthy(host string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := dial(host)
		if err == nil {
			var st int
			st, err = c.get("/health")
			c.close()
			if err == nil && st == http.StatusOK {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("status %d", st)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/health did not answer 200: %v", host, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
