package feed

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// AccessLog writes one line per request, in the shape slog's text or JSON
// handler gives it (msg "request"), so it reads like the service's other
// log lines. It formats the line itself: calendar clients poll, and going
// through slog cost more than the rest of answering a cached poll.
//
// A nil *AccessLog logs nothing.
type AccessLog struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	buf  []byte
	// What the previous line formatted, reused while it holds: the
	// second of its time (date, to the second; zone, its offset) and the
	// host of its client address (masked).
	sec        int64
	loc        *time.Location
	date, zone []byte
	host       string
	masked     []byte
}

// NewAccessLog returns an access log writing to w, as JSON objects when
// json is set and as slog text (key=value) otherwise. Each line is one
// Write; w should buffer.
func NewAccessLog(w io.Writer, json bool) *AccessLog {
	return &AccessLog{w: w, json: json, buf: make([]byte, 0, 256)}
}

// access is one request as the access log records it.
type access struct {
	time     time.Time
	method   string
	route    string
	status   int
	bytes    int
	duration time.Duration
	client   string
	remote   string // the client address as the server saw it; masked when written
}

// log writes the line for a.
func (l *AccessLog) log(a *access) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json {
		l.buf = l.appendJSON(l.buf[:0], a)
	} else {
		l.buf = l.appendText(l.buf[:0], a)
	}
	l.w.Write(l.buf) // nowhere to report a failure to write the log
}

// appendJSON appends a as slog.JSONHandler writes a record with these attributes.
func (l *AccessLog) appendJSON(b []byte, a *access) []byte {
	b = append(b, `{"time":"`...)
	b = l.appendTime(b, a.time, false)
	b = append(b, `","level":"INFO","msg":"request","method":`...)
	b = appendJSONString(b, a.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, a.route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(a.bytes), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(a.duration), 10)
	b = append(b, `,"client":`...)
	b = appendJSONString(b, a.client)
	b = append(b, `,"remote":"`...)
	b = l.appendRemote(b, a.remote)
	return append(b, "\"}\n"...)
}

// appendText appends a as slog.TextHandler writes a record with these attributes.
func (l *AccessLog) appendText(b []byte, a *access) []byte {
	b = append(b, "time="...)
	b = l.appendTime(b, a.time, true)
	b = append(b, " level=INFO msg=request method="...)
	b = appendTextString(b, a.method)
	b = append(b, " route="...)
	b = appendTextString(b, a.route)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(a.status), 10)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, int64(a.bytes), 10)
	b = append(b, " duration="...)
	b = append(b, a.duration.String()...)
	b = append(b, " client="...)
	b = appendTextString(b, a.client)
	b = append(b, " remote="...)
	n := len(b)
	if b = l.appendRemote(b, a.remote); len(b) == n {
		b = append(b, `""`...)
	}
	return append(b, '\n')
}

// appendTime appends t in RFC 3339 as slog's handlers do: with exactly
// three fractional digits when millis is set (text), else with up to nine
// and trailing zeros trimmed, as time.RFC3339Nano (JSON). The date and the
// offset are formatted once a second.
func (l *AccessLog) appendTime(b []byte, t time.Time, millis bool) []byte {
	if sec := t.Unix(); sec != l.sec || t.Location() != l.loc || l.date == nil {
		l.sec, l.loc = sec, t.Location()
		l.date = t.AppendFormat(l.date[:0], "2006-01-02T15:04:05")
		l.zone = t.AppendFormat(l.zone[:0], "Z07:00")
	}
	b = append(b, l.date...)
	ns := t.Nanosecond()
	switch {
	case millis:
		b = append(b, '.')
		b = appendDigits(b, ns/1e6, 3)
	case ns != 0:
		digits := 9
		for ns%10 == 0 {
			ns /= 10
			digits--
		}
		b = append(b, '.')
		b = appendDigits(b, ns, digits)
	}
	return append(b, l.zone...)
}

// appendDigits appends v in exactly n decimal digits, with leading zeros.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, "000000000"[:n]...)
	for i := len(b) - 1; v > 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// appendRemote appends the masked client address addr; the previous
// line's is reused when the host is the same.
func (l *AccessLog) appendRemote(b []byte, addr string) []byte {
	if host := clientHost(addr); host != l.host || l.masked == nil {
		l.host = host
		l.masked = appendMaskedHost(l.masked[:0], host)
	}
	return append(b, l.masked...)
}

// appendJSONString appends s as a JSON string, escaped as slog's JSON
// handler escapes it: quote, backslash and control bytes; invalid UTF-8
// as U+FFFD; U+2028 and U+2029, which JavaScript does not allow raw.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b = append(b, `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				b = append(b, `\u202`...)
				b = append(b, hex[r&0xf])
			default:
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// appendTextString appends s as slog's text handler does: bare, or quoted
// when it is empty or holds a space, '=', '"', a control character or a
// rune that does not print.
func appendTextString(b []byte, s string) []byte {
	if s == "" {
		return append(b, `""`...)
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' {
				return strconv.AppendQuote(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return strconv.AppendQuote(b, s)
		}
		i += size
	}
	return append(b, s...)
}

// clientHost is the host of a client address, with or without a port.
func clientHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// appendMaskedHost appends the network part of a client's IP address (/24
// for IPv4, /48 for IPv6), so logs do not hold full client IPs; nothing
// when host is not an IP address.
func appendMaskedHost(b []byte, host string) []byte {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return b
	}
	bits := 24
	if ip.Is6() && !ip.Is4In6() {
		bits = 48
	}
	p, err := ip.Unmap().Prefix(bits)
	if err != nil {
		return b
	}
	return p.AppendTo(b)
}
