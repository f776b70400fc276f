package mailer_test

import (
	"context"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/mailer"
	"github.com/itilflow/itilflow/mailer/smtptest"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// stack is a real PostgreSQL outbox, a mailer and an SMTP server in this
// process, and a clock the test moves.
type stack struct {
	st   *store.Store
	smtp *smtptest.Server
	m    *mailer.Mailer
	d    *mailer.Dispatcher
	mu   sync.Mutex
	now  time.Time
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.WithAuditKey([]byte("the mailer tests' audit key, 32 bytes or more")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t, "127.0.0.1:0")
	m, err := mailer.New(mailer.Config{Addr: srv.Addr(), From: "itilflow <itilflow@example.com>", TLS: mailer.TLSNone,
		PublicURL: "https://itil.example.com", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The incidents' staff role sees them; requesters see their own.
	src := []byte("name: incident\ninitial: new\nstates:\n  new: {actions: {close: {to: closed, roles: [incident-manager]}}}\n  closed: {final: true}\n")
	def, err := engine.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.PublishDefinition(ctx, def, src, "pat", "test"); err != nil {
		t.Fatal(err)
	}
	s := &stack{st: st, smtp: srv, m: m, now: t0.Add(time.Hour)}
	s.d = &mailer.Dispatcher{Outbox: st, Mailer: m, Now: s.clock}
	users := []store.User{
		{ID: "ivy", Name: "Ivy Incident", Roles: []string{"incident-manager"}, Email: "ivy@example.com"},
		{ID: "iris", Name: "Iris 王", Roles: []string{"incident-manager"}, Email: "iris@example.com", Language: store.LanguageChinese},
		{ID: "ian", Name: "Ian (no address)", Roles: []string{"incident-manager"}},
		{ID: "wendy", Name: "Wendy Webhook", Roles: []string{"incident-manager"}, Email: "wendy@example.com", Channel: store.ChannelWebhook},
		{ID: "nora", Name: "Nora None", Roles: []string{"incident-manager"}, Email: "nora@example.com", Channel: store.ChannelNone},
		{ID: "rita", Name: "Rita Requester", Roles: []string{"requester"}, Email: "rita@example.com", Channel: store.ChannelEmail},
		{ID: "rick", Name: "Rick Requester", Roles: []string{"requester"}, Email: "rick@example.com"},
	}
	for _, u := range users {
		if err := st.SaveUser(ctx, u, "cli:test"); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *stack) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *stack) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

// notify projects a process whose events up to seq include notifications
// to the given addressees ("role:x" or "user:y").
func (s *stack) notify(t *testing.T, id string, to ...string) {
	t.Helper()
	events := []engine.Event{{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita"}}
	for i, a := range to {
		kind, who, _ := strings.Cut(a, ":")
		events = append(events, engine.Event{Seq: int64(i + 2), At: t0.Add(time.Duration(i+1) * time.Minute), Type: engine.EventNotification,
			Actor: "system", Data: map[string]any{kind: who, "message": "response SLA breached"}})
	}
	view := engine.View{ID: id, Definition: "incident", Version: 1, State: "new", Input: map[string]any{}, StartedAt: t0,
		StartedBy: "rita", Seq: int64(len(events))}
	if err := s.st.Project(context.Background(), view, events); err != nil {
		t.Fatal(err)
	}
}

// recipients are the To addresses of the messages received, sorted.
func recipients(msgs []smtptest.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.To...)
	}
	sort.Strings(out)
	return out
}

func TestEmailsThroughTheOutbox(t *testing.T) {
	ctx := context.Background()

	t.Run("ARoleNotificationReachesEachMemberWhoseChannelIsEmail", func(t *testing.T) {
		s := newStack(t)
		s.notify(t, "incident-000001", "role:incident-manager", "user:rita")
		n, err := s.d.Round(ctx)
		if err != nil || n != 3 {
			t.Fatalf("delivered %d, %v; want 3", n, err)
		}
		msgs := s.smtp.Messages()
		if got, want := recipients(msgs), []string{"iris@example.com", "ivy@example.com", "rita@example.com"}; !slices.Equal(got, want) {
			t.Fatalf("e-mails to %v, want %v (none to ian without an address, wendy on the webhook, nora who chose none)", got, want)
		}
		for _, m := range msgs {
			if len(m.To) != 1 {
				t.Errorf("one message per person, got one to %v", m.To)
			}
			if !strings.HasPrefix(m.Header.Get("Message-Id"), "<notification-") || !strings.HasSuffix(m.Header.Get("Message-Id"), "@example.com>") {
				t.Errorf("Message-ID %q is not derived from the notification", m.Header.Get("Message-Id"))
			}
			if m.Header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("no Auto-Submitted header: %v", m.Header)
			}
		}
	})

	t.Run("NoOneIsMailedOfAProcessTheyMayNotSee", func(t *testing.T) {
		// Rick holds the role the notice names, but Rita's process is hidden
		// from him: the e-mail would tell him it exists.
		s := newStack(t)
		s.notify(t, "incident-000001", "role:requester")
		if _, err := s.d.Round(ctx); err != nil {
			t.Fatal(err)
		}
		if got := recipients(s.smtp.Messages()); !slices.Equal(got, []string{"rita@example.com"}) {
			t.Fatalf("e-mails to %v, want only Rita's", got)
		}
	})

	t.Run("EachInTheirLanguage", func(t *testing.T) {
		s := newStack(t)
		s.notify(t, "incident-000001", "role:incident-manager")
		if _, err := s.d.Round(ctx); err != nil {
			t.Fatal(err)
		}
		by := map[string]smtptest.Message{}
		for _, m := range s.smtp.Messages() {
			by[m.To[0]] = m
		}
		en, zh := by["ivy@example.com"], by["iris@example.com"]
		if en.Subject != "[itilflow] incident-000001: response SLA breached" || !strings.Contains(en.Body, "Hello Ivy Incident,") ||
			!strings.Contains(en.Body, "https://itil.example.com/processes/incident-000001") || !strings.Contains(en.Body, "the role incident-manager") {
			t.Errorf("English e-mail:\nSubject: %s\n%s", en.Subject, en.Body)
		}
		if zh.Subject != "[itilflow] incident-000001：response SLA breached" || !strings.Contains(zh.Body, "Iris 王，您好") ||
			!strings.Contains(zh.Body, "您担任角色 incident-manager") {
			t.Errorf("Chinese e-mail:\nSubject: %s\n%s", zh.Subject, zh.Body)
		}
	})

	t.Run("ASecondRunSendsNothingAgain", func(t *testing.T) {
		s := newStack(t)
		s.notify(t, "incident-000001", "role:incident-manager")
		for i := 0; i < 3; i++ {
			if _, err := s.d.Round(ctx); err != nil {
				t.Fatal(err)
			}
			s.advance(time.Hour)
		}
		if got := len(s.smtp.Messages()); got != 2 {
			t.Fatalf("%d e-mails after three runs, want 2", got)
		}
	})

	t.Run("AChangeOfTheDirectoryDoesNotMailAnOldNotification", func(t *testing.T) {
		s := newStack(t)
		s.notify(t, "incident-000001", "role:incident-manager")
		if _, err := s.d.Round(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.st.SaveUser(ctx, store.User{ID: "ian", Name: "Ian", Roles: []string{"incident-manager"}, Email: "ian@example.com"}, "cli:test"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.d.Round(ctx); err != nil {
			t.Fatal(err)
		}
		if got := recipients(s.smtp.Messages()); slices.Contains(got, "ian@example.com") {
			t.Fatalf("ian, given an address later, got the old notification: %v", got)
		}
	})

	t.Run("AFailedSendIsRetriedAfterItsBackoffAndSentOnce", func(t *testing.T) {
		s := newStack(t)
		s.notify(t, "incident-000001", "user:rita")
		s.smtp.Refuse(1)
		n, err := s.d.Round(ctx)
		if err == nil || n != 0 || engine.ErrorCode(err) != engine.EUNAVAILABLE {
			t.Fatalf("a refused e-mail: delivered %d, %v; want an unavailable error", n, err)
		}
		emails, err := s.st.Emails(ctx, 1)
		if err != nil || len(emails) != 1 || emails[0].Attempts != 1 || emails[0].SentAt != nil || !strings.Contains(emails[0].LastError, "451") {
			t.Fatalf("outbox after a refusal: %+v, %v", emails, err)
		}
		// Within the backoff nothing is tried.
		if n, err := s.d.Round(ctx); err != nil || n != 0 {
			t.Fatalf("within the backoff: delivered %d, %v", n, err)
		}
		s.advance(time.Minute)
		if n, err := s.d.Round(ctx); err != nil || n != 1 {
			t.Fatalf("after the backoff: delivered %d, %v", n, err)
		}
		if n, err := s.d.Round(ctx); err != nil || n != 0 {
			t.Fatalf("again: delivered %d, %v", n, err)
		}
		if got := len(s.smtp.Messages()); got != 1 {
			t.Fatalf("%d e-mails, want exactly 1", got)
		}
		emails, _ = s.st.Emails(ctx, 1)
		if emails[0].SentAt == nil || emails[0].Attempts != 2 || emails[0].LastError != "" {
			t.Fatalf("outbox after the retry: %+v", emails)
		}
	})

	t.Run("AClaimedEmailIsNotSentByASecondDispatcher", func(t *testing.T) {
		s := newStack(t)
		s.notify(t, "incident-000001", "user:rita")
		if _, err := s.st.ExpandEmails(ctx, 10); err != nil {
			t.Fatal(err)
		}
		inSend, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := s.st.SendNextEmail(ctx, s.clock(), func(ctx context.Context, e store.PendingEmail) error {
				close(inSend)
				<-release
				return s.m.Send(ctx, e)
			})
			done <- err
		}()
		select {
		case <-inSend:
		case err := <-done:
			t.Fatalf("the first dispatcher sent nothing (%v)", err)
		case <-time.After(30 * time.Second):
			t.Fatal("the first dispatcher never reached its send")
		}
		found, err := s.st.SendNextEmail(ctx, s.clock(), s.m.Send)
		if err != nil || found {
			t.Fatalf("a second dispatcher found the claimed e-mail (%v, %v)", found, err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := len(s.smtp.Messages()); got != 1 {
			t.Fatalf("%d e-mails, want 1", got)
		}
	})

	t.Run("ACrashBeforeTheMarkSendsAgainWithTheSameMessageID", func(t *testing.T) {
		// The documented at-least-once edge: the server took the message,
		// then the dispatcher died before its transaction committed. The
		// claim is released at once and the e-mail goes again — with the
		// Message-ID of the first, so it can be recognised as the same.
		s := newStack(t)
		s.notify(t, "incident-000001", "user:rita")
		if _, err := s.st.ExpandEmails(ctx, 10); err != nil {
			t.Fatal(err)
		}
		crashCtx, crash := context.WithCancel(ctx)
		_, err := s.st.SendNextEmail(crashCtx, s.clock(), func(ctx context.Context, e store.PendingEmail) error {
			err := s.m.Send(context.WithoutCancel(ctx), e)
			crash() // the process dies here: the mark never commits
			return err
		})
		if err == nil {
			t.Fatal("the mark committed although the dispatcher died before it")
		}
		if n, err := s.d.Round(ctx); err != nil || n != 1 {
			t.Fatalf("after the crash: delivered %d, %v", n, err)
		}
		msgs := s.smtp.Messages()
		if len(msgs) != 2 || msgs[0].Header.Get("Message-Id") != msgs[1].Header.Get("Message-Id") {
			t.Fatalf("want the same message twice with one Message-ID, got %d: %v", len(msgs), msgs)
		}
	})
}

// TestRemindersComeInADailyDigest: a user who chose the digest gets their
// reminders in one e-mail after 00:00 UTC, with every reminder of the day
// before, while other notifications still come one by one; the members of
// the role who did not choose it get each reminder on its own.
func TestRemindersComeInADailyDigest(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	if err := s.st.SaveUser(ctx, store.User{ID: "ivy", Name: "Ivy Incident", Roles: []string{"incident-manager"}, Email: "ivy@example.com",
		Digest: true}, "cli:test"); err != nil {
		t.Fatal(err)
	}
	// Two reminders (each a reminder event, then its notification) and an
	// escalation, all to the incident managers.
	events := []engine.Event{{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita"}}
	add := func(typ string, data map[string]any) {
		seq := int64(len(events) + 1)
		events = append(events, engine.Event{Seq: seq, At: t0.Add(time.Duration(seq) * time.Minute), Type: typ, Actor: "system", Data: data})
	}
	add(engine.EventReminder, map[string]any{"reminder": 0})
	add(engine.EventNotification, map[string]any{"role": "incident-manager", "message": "still open after 1h"})
	add(engine.EventReminder, map[string]any{"reminder": 0})
	add(engine.EventNotification, map[string]any{"role": "incident-manager", "message": "still open after 2h"})
	add(engine.EventSLABreached, nil)
	add(engine.EventNotification, map[string]any{"role": "incident-manager", "message": "response SLA breached"})
	if err := s.st.Project(ctx, engine.View{ID: "incident-000001", Definition: "incident", Version: 1, State: "new", Input: map[string]any{},
		StartedAt: t0, StartedBy: "rita", Seq: int64(len(events))}, events); err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.Round(ctx); err != nil {
		t.Fatal(err)
	}
	to := func(addr string) []smtptest.Message {
		var out []smtptest.Message
		for _, m := range s.smtp.Messages() {
			if m.To[0] == addr {
				out = append(out, m)
			}
		}
		return out
	}
	if got := to("ivy@example.com"); len(got) != 1 || !strings.Contains(got[0].Subject, "response SLA breached") {
		t.Fatalf("before midnight Ivy got %d e-mails, want only the breach: %+v", len(got), got)
	}
	if got := to("iris@example.com"); len(got) != 3 {
		t.Fatalf("Iris, without a digest, got %d e-mails, want 3", len(got))
	}
	s.advance(24 * time.Hour)
	for i := 0; i < 2; i++ {
		if _, err := s.d.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := to("ivy@example.com")
	if len(got) != 2 {
		t.Fatalf("after midnight Ivy has %d e-mails, want the breach and one digest", len(got))
	}
	d := got[1]
	if d.Subject != "[itilflow] 2 reminder(s) until 2026-11-24 00:00 UTC" || !strings.Contains(d.Body, "still open after 1h") ||
		!strings.Contains(d.Body, "still open after 2h") || !strings.HasPrefix(d.Header.Get("Message-Id"), "<digest-20261124T0000Z.") {
		t.Fatalf("the digest:\nSubject: %s\nMessage-Id: %s\n%s", d.Subject, d.Header.Get("Message-Id"), d.Body)
	}
}

func TestConfigIsChecked(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  mailer.Config
		want string
	}{
		{"NoPort", mailer.Config{Addr: "smtp.example.com", From: "a@example.com"}, "host:port"},
		{"BadFrom", mailer.Config{Addr: "smtp.example.com:587", From: "not an address"}, "from address"},
		{"BadTLS", mailer.Config{Addr: "smtp.example.com:587", From: "a@example.com", TLS: "sometimes"}, "TLS policy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := mailer.New(c.cfg)
			if engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want EINVALID naming %q", err, c.want)
			}
		})
	}
}

func TestASubjectIsOneLine(t *testing.T) {
	m, err := mailer.New(mailer.Config{Addr: "smtp.example.com:587", From: "itilflow@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e := store.PendingEmail{Notification: store.Notification{ID: 7, ProcessID: "incident-000007", Message: "late\r\nBcc: eve@example.com", CreatedAt: t0},
		To: "ivy@example.com", UserID: "ivy"}
	subject, _, err := m.Render(e)
	if err != nil || strings.ContainsAny(subject, "\r\n") {
		t.Fatalf("subject %q, %v", subject, err)
	}
	if m.MessageID(7, "ivy") != m.MessageID(7, "ivy") || m.MessageID(7, "ivy") == m.MessageID(7, "iris") {
		t.Fatal("Message-IDs must be stable per notification and person, and differ between people")
	}
}
