// Package mailer turns a notification of the outbox into an e-mail and sends
// it over SMTP (github.com/wneessen/go-mail), in the addressee's language. It
// decides nothing about who gets what: the store expands notifications into
// the e-mails they owe, and the notifier activity calls Send for each.
package mailer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"embed"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// TLS policies, as the --smtp-tls flag spells them.
const (
	// TLSMandatory refuses a server that does not offer STARTTLS (the default:
	// notifications name processes and people).
	TLSMandatory = "mandatory"
	// TLSOpportunistic uses STARTTLS when the server offers it.
	TLSOpportunistic = "opportunistic"
	// TLSImplicit connects with TLS from the first byte (SMTPS, port 465).
	TLSImplicit = "implicit"
	// TLSNone sends in clear: a relay on the same host or a test server.
	TLSNone = "none"
)

// Config is how to reach the SMTP server and whom the e-mails come from.
type Config struct {
	// Addr is host:port of the SMTP server.
	Addr string
	// From is the sender: an address, optionally with a name
	// ("itilflow <itilflow@example.com>"). Its domain makes the Message-IDs.
	From string
	// Username and Password authenticate (SMTP AUTH PLAIN or LOGIN, whichever
	// the server offers) when Username is set.
	Username, Password string
	// TLS is one of TLSMandatory (default when empty), TLSOpportunistic,
	// TLSImplicit or TLSNone.
	TLS string
	// TLSConfig, when set, verifies the server (a private CA); nil uses the
	// system's roots and the host of Addr.
	TLSConfig *tls.Config
	// PublicURL, when set, is where people reach itilflow: e-mails link to
	// the process's console page.
	PublicURL string
	// Timeout bounds one connection and its conversation; 0 means 30 s.
	Timeout time.Duration
}

// Mailer sends notification e-mails. It is safe for concurrent use: each Send
// opens its own connection, since notifications are rare and a held
// connection would only be closed by the server meanwhile.
type Mailer struct {
	cfg       Config
	host      string
	port      int
	from      *mail.Address
	domain    string
	templates map[string]*template.Template
}

// New checks cfg and parses the templates; a bad setting is EINVALID.
func New(cfg Config) (*Mailer, error) {
	const op = "mailer.New"
	bad := func(format string, args ...any) error {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: fmt.Sprintf(format, args...)}
	}
	host, portText, ok := strings.Cut(cfg.Addr, ":")
	if !ok || host == "" {
		return nil, bad("SMTP server %q: want host:port, such as smtp.example.com:587", cfg.Addr)
	}
	var port int
	if _, err := fmt.Sscanf(portText, "%d", &port); err != nil || port <= 0 || port > 65535 {
		return nil, bad("SMTP server %q: %q is not a port", cfg.Addr, portText)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, bad("from address %q: %v", cfg.From, err)
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = TLSMandatory
	case TLSMandatory, TLSOpportunistic, TLSImplicit, TLSNone:
	default:
		return nil, bad("TLS policy %q: want %s, %s, %s or %s", cfg.TLS, TLSMandatory, TLSOpportunistic, TLSImplicit, TLSNone)
	}
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || u.Host == "" {
			return nil, bad("public URL %q is not an absolute URL", cfg.PublicURL)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	m := &Mailer{cfg: cfg, host: host, port: port, from: from, templates: map[string]*template.Template{}}
	m.domain = from.Address[strings.LastIndex(from.Address, "@")+1:]
	for _, lang := range []string{store.LanguageEnglish, store.LanguageChinese} {
		t, err := template.ParseFS(templateFiles, "templates/"+lang+".tmpl")
		if err != nil {
			return nil, &engine.Error{Code: engine.EINTERNAL, Op: op, Message: "notification templates", Err: err}
		}
		m.templates[lang] = t
	}
	return m, nil
}

// Message is what the templates see.
type Message struct {
	ID        int64
	ProcessID string
	Message   string
	Role      string
	Name      string
	CreatedAt string
	Link      string
}

// MessageID is the Message-ID of the e-mail of notification n to user: the
// same at every attempt, so that the rare second copy (a crash after the
// server took the message but before the outbox recorded it) is recognisable
// as the same message by the receiving server, the mail client, or a person.
func (m *Mailer) MessageID(n int64, user string) string {
	sum := sha256.Sum256([]byte(user))
	return fmt.Sprintf("notification-%d.%s@%s", n, hex.EncodeToString(sum[:6]), m.domain)
}

// Render returns the subject and plain-text body of an e-mail, in its
// language (English when the language is empty or unknown).
func (m *Mailer) Render(e store.PendingEmail) (subject, body string, err error) {
	t, ok := m.templates[e.Language]
	if !ok {
		t = m.templates[store.LanguageEnglish]
	}
	msg := Message{ID: e.ID, ProcessID: e.ProcessID, Message: e.Notification.Message, Role: e.Role, Name: e.UserName,
		CreatedAt: e.CreatedAt.UTC().Format("2006-01-02 15:04 MST")}
	if msg.Name == "" {
		msg.Name = e.UserID
	}
	if m.cfg.PublicURL != "" {
		msg.Link = strings.TrimRight(m.cfg.PublicURL, "/") + "/processes/" + url.PathEscape(e.ProcessID)
	}
	var sb, bb bytes.Buffer
	if err := t.ExecuteTemplate(&sb, "subject", msg); err != nil {
		return "", "", err
	}
	if err := t.ExecuteTemplate(&bb, "body", msg); err != nil {
		return "", "", err
	}
	// A subject is one line: a message with a line break must not add headers.
	subject = strings.Join(strings.Fields(sb.String()), " ")
	return subject, strings.TrimLeft(bb.String(), "\n"), nil
}

// build makes the e-mail of one notification to one person.
func (m *Mailer) build(e store.PendingEmail) (*gomail.Msg, error) {
	subject, body, err := m.Render(e)
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(m.from)
	if err := msg.AddToFormat(e.UserName, e.To); err != nil {
		return nil, err
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(m.MessageID(e.ID, e.UserID))
	msg.SetDateWithValue(e.CreatedAt)
	// Out-of-office replies to a notifier help nobody.
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetUserAgent("itilflow")
	msg.SetBodyString(gomail.TypeTextPlain, body)
	return msg, nil
}

// Send delivers the e-mail of one notification to one person. An address the
// server refuses, like a server that cannot be reached, is an error: the
// outbox tries again later, so a passing outage loses nothing.
func (m *Mailer) Send(ctx context.Context, e store.PendingEmail) error {
	const op = "mailer.Send"
	what := fmt.Sprintf("e-mail of notification %d to %s", e.ID, e.UserID)
	msg, err := m.build(e)
	if err != nil {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: what, Err: err}
	}
	return m.deliver(ctx, op, what, msg)
}

// DigestItem is one reminder of a digest, as the templates see it.
type DigestItem struct {
	ProcessID, Message, CreatedAt, Link string
}

// DigestMessage is what the digest templates see.
type DigestMessage struct {
	Name  string
	Until string
	Items []DigestItem
}

// DigestID is the Message-ID of a person's digest of the period ending at
// until: the same at every attempt, like MessageID.
func (m *Mailer) DigestID(user string, until time.Time) string {
	sum := sha256.Sum256([]byte(user))
	return fmt.Sprintf("digest-%s.%s@%s", until.UTC().Format("20060102T1504Z"), hex.EncodeToString(sum[:6]), m.domain)
}

// RenderDigest returns the subject and body of a digest, in its language.
func (m *Mailer) RenderDigest(d store.Digest) (subject, body string, err error) {
	t, ok := m.templates[d.Language]
	if !ok {
		t = m.templates[store.LanguageEnglish]
	}
	msg := DigestMessage{Name: d.UserName, Until: d.Until.UTC().Format("2006-01-02 15:04 MST")}
	if msg.Name == "" {
		msg.Name = d.UserID
	}
	for _, n := range d.Items {
		item := DigestItem{ProcessID: n.ProcessID, Message: n.Message, CreatedAt: n.CreatedAt.UTC().Format("2006-01-02 15:04")}
		if m.cfg.PublicURL != "" {
			item.Link = strings.TrimRight(m.cfg.PublicURL, "/") + "/processes/" + url.PathEscape(n.ProcessID)
		}
		msg.Items = append(msg.Items, item)
	}
	var sb, bb bytes.Buffer
	if err := t.ExecuteTemplate(&sb, "digest_subject", msg); err != nil {
		return "", "", err
	}
	if err := t.ExecuteTemplate(&bb, "digest_body", msg); err != nil {
		return "", "", err
	}
	return strings.Join(strings.Fields(sb.String()), " "), strings.TrimLeft(bb.String(), "\n"), nil
}

// SendDigest delivers one person's digest of reminders; failures as Send's.
func (m *Mailer) SendDigest(ctx context.Context, d store.Digest) error {
	const op = "mailer.SendDigest"
	what := fmt.Sprintf("digest of %d reminder(s) to %s", len(d.Items), d.UserID)
	subject, body, err := m.RenderDigest(d)
	if err != nil {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: what, Err: err}
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(m.from)
	if err := msg.AddToFormat(d.UserName, d.To); err != nil {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: what, Err: err}
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(m.DigestID(d.UserID, d.Until))
	msg.SetDateWithValue(d.Until)
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetUserAgent("itilflow")
	msg.SetBodyString(gomail.TypeTextPlain, body)
	return m.deliver(ctx, op, what, msg)
}

// deliver sends one message over a connection of its own.
func (m *Mailer) deliver(ctx context.Context, op, what string, msg *gomail.Msg) error {
	opts := []gomail.Option{gomail.WithPort(m.port), gomail.WithTimeout(m.cfg.Timeout), gomail.WithoutNoop()}
	switch m.cfg.TLS {
	case TLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if m.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(m.cfg.TLSConfig))
	}
	if m.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	c, err := gomail.NewClient(m.host, opts...)
	if err != nil {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: "SMTP client", Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return &engine.Error{Code: engine.EUNAVAILABLE, Op: op, Message: what + " via " + m.cfg.Addr, Err: err}
	}
	return nil
}
