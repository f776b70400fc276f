// Package smtptest runs an SMTP server in the test's process
// (github.com/emersion/go-smtp) that keeps every message it accepts, so tests
// of notification e-mails check what a real SMTP conversation delivered.
package smtptest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one e-mail the server accepted.
type Message struct {
	From string
	To   []string
	// Header is the parsed header of Data; Subject and Body are decoded
	// (MIME words, quoted-printable or base64), as a mail client shows them.
	Header  mail.Header
	Subject string
	Body    string
	Data    []byte
}

// Server is an SMTP server on a loopback port. It accepts every message
// (without TLS or AUTH) unless told to refuse the next ones.
type Server struct {
	srv    *smtp.Server
	addr   string
	mu     sync.Mutex
	msgs   []Message
	refuse int
	// hold, when set, is closed when a message arrives, and that message
	// waits for release before it is answered (see Hold).
	hold    chan struct{}
	release chan struct{}
}

// Start starts a server on addr ("127.0.0.1:0" for any free port) and stops
// it when the test ends.
func Start(t testing.TB, addr string) *Server {
	t.Helper()
	s := &Server{}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "smtptest.invalid"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() {
		s.Drop()
		s.srv.Close()
	})
	return s
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return s.addr }

// Messages returns the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Refuse makes the server answer the next n messages with a temporary
// failure (451), as a server in trouble does.
func (s *Server) Refuse(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = n
}

// Hold makes the server keep the next message waiting, unanswered, as a slow
// server does: the channel it returns is closed when that message has
// arrived. Drop then refuses it (the sender sees a failure, or has died).
func (s *Server) Hold() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.release = make(chan struct{}), make(chan struct{})
	return s.hold
}

// Drop answers the held message with a temporary failure and keeps nothing
// of it.
func (s *Server) Drop() {
	s.mu.Lock()
	release := s.release
	s.release = nil
	s.mu.Unlock()
	if release != nil {
		close(release)
	}
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = append(x.to, to); return nil }
func (x *session) Reset()                                      { x.from, x.to = "", nil }
func (x *session) Logout() error                               { return nil }

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	if hold := x.s.hold; hold != nil {
		release := x.s.release
		x.s.hold = nil
		x.s.mu.Unlock()
		close(hold)
		<-release
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "dropped while held"}
	}
	defer x.s.mu.Unlock()
	if x.s.refuse > 0 {
		x.s.refuse--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m := Message{From: x.from, To: append([]string(nil), x.to...), Data: data}
	if parsed, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		m.Header = parsed.Header
		if m.Subject, err = new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject")); err != nil {
			m.Subject = parsed.Header.Get("Subject")
		}
		var body io.Reader = parsed.Body
		switch strings.ToLower(parsed.Header.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, _ := io.ReadAll(body)
		m.Body = string(b)
	}
	x.s.msgs = append(x.s.msgs, m)
	return nil
}
