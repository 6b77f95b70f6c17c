// Package notify delivers the email outbox over SMTP.
//
// Mail is never sent from the request or job that decides it: the store
// enqueues it in the same transaction as the change it reports, and a
// Sender delivers it later. That keeps a slow or failing mail server out
// of every other code path, and lets a failed delivery be retried with
// backoff, its attempts and last error visible in the console's outbox.
// Without SMTP configured no Sender runs and mail stays in the outbox.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wneessen/go-mail"

	"github.com/latchkey/latchkey"
)

// Store is the outbox a Sender drains.
type Store interface {
	ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.Mail, error)
	ReleaseMail(ctx context.Context, id string, claimedUntil, now time.Time) error
	MarkMailSent(ctx context.Context, id string, at time.Time) error
	MarkMailFailed(ctx context.Context, id string, errMsg string, retryAt *time.Time) error
}

// Config configures a Sender.
type Config struct {
	Store Store
	// URL is smtp://[user:password@]host[:port] (STARTTLS when the server
	// offers it, port 587 by default) or smtps://... (TLS, port 465).
	URL  string
	From string
	// Interval between passes over the outbox; 10 seconds when zero.
	Interval time.Duration
	// MaxAttempts before a mail is given up; 8 when zero.
	MaxAttempts int
	Now         func() time.Time
	Logger      *slog.Logger
	// Registerer receives latchkey_mail_deliveries_total; nil keeps none.
	Registerer prometheus.Registerer
	// ProductName brands every mail (the sender's display name, the
	// subject's "latchkey:" prefix and a signature line); "" keeps latchkey.
	ProductName string
}

// Sender delivers the outbox.
type Sender struct {
	cfg    Config
	host   string
	client *mail.Client
	// deliveries by outcome: sent, retry (failed, tried again later),
	// gave_up (failed for the last time).
	sent, retried, gaveUp prometheus.Counter
}

// lease is how long a claimed mail is hidden from other senders: longer
// than a delivery can take, so a crashed sender's mail is retried later.
const lease = 5 * time.Minute

// New checks the configuration and returns a Sender; Run starts it.
func New(cfg Config) (*Sender, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.From == "" {
		return nil, fmt.Errorf("notify: no sender address")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		// Not the URL itself: it may hold a password.
		return nil, fmt.Errorf("notify: the SMTP URL must be smtp://user:password@host:port or smtps://user:password@host:port")
	}
	opts := []mail.Option{mail.WithTimeout(30 * time.Second)}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("notify: invalid SMTP port %q", p)
		}
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil {
		pw, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(u.User.Username()), mail.WithPassword(pw))
	}
	c, err := mail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latchkey_mail_deliveries_total",
		Help: "Mail delivery attempts over SMTP by outcome: sent, retry (failed, tried again later), gave_up (failed for the last time).",
	}, []string{"outcome"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(deliveries); err != nil {
			return nil, fmt.Errorf("notify: metrics: %w", err)
		}
	}
	return &Sender{cfg: cfg, host: u.Host, client: c, sent: deliveries.WithLabelValues("sent"),
		retried: deliveries.WithLabelValues("retry"), gaveUp: deliveries.WithLabelValues("gave_up")}, nil
}

// Run delivers due mail until ctx is cancelled.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("mail delivery pass failed", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sendTimeout bounds one SMTP delivery, also one that is finished after
// the sender was told to stop.
const sendTimeout = time.Minute

// recordTimeout bounds recording a delivery's outcome once the sender's
// context is cancelled.
const recordTimeout = 10 * time.Second

// SendDue delivers the mails due now, one SMTP session per mail so that a
// refused recipient fails only its own mail. A failure is recorded on the
// mail and retried with exponential backoff.
//
// Cancelling ctx (SIGTERM) stops it between mails: the mail in hand is
// sent to the end and its outcome recorded with a context that outlives
// the cancellation, since a mail the server accepted but the outbox does
// not know about would go again when its lease ran out; the mails claimed
// but not begun are handed back, due at once, for the next start or
// another instance. Only a process killed between the server's acceptance
// and the record (SIGKILL, power loss) sends a mail twice, after its lease,
// with the same Message-ID.
func (s *Sender) SendDue(ctx context.Context) error {
	mails, err := s.cfg.Store.ClaimMails(ctx, s.cfg.Now(), lease, 50)
	if err != nil {
		return err
	}
	for i, m := range mails {
		if ctx.Err() != nil {
			s.release(ctx, mails[i:])
			return nil
		}
		if err := s.deliver(ctx, m); err != nil {
			s.release(ctx, mails[i+1:])
			return err
		}
	}
	return nil
}

// deliver sends m and records the outcome, both to the end even when ctx
// is cancelled meanwhile.
func (s *Sender) deliver(ctx context.Context, m *latchkey.Mail) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	sendErr := s.send(sctx, m)
	cancel()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if sendErr != nil {
		retry := s.cfg.Now().Add(latchkey.RetryBackoff(m.Attempts + 1))
		retryAt := &retry
		if m.Attempts+1 >= s.cfg.MaxAttempts {
			retryAt = nil
			s.gaveUp.Inc()
		} else {
			s.retried.Inc()
		}
		s.cfg.Logger.Warn("mail delivery failed", "mail_id", m.ID, "smtp_host", s.host,
			"attempt", m.Attempts+1, "gave_up", retryAt == nil, "err", sendErr.Error())
		return s.cfg.Store.MarkMailFailed(rctx, m.ID, sendErr.Error(), retryAt)
	}
	s.sent.Inc()
	if err := s.cfg.Store.MarkMailSent(rctx, m.ID, s.cfg.Now()); err != nil {
		// The mail went: say so, as its lease's end will send it again.
		s.cfg.Logger.Error("a mail was sent but could not be recorded: it will be sent again after its lease",
			"mail_id", m.ID, "lease", lease.String(), "err", err.Error())
		return err
	}
	return nil
}

// release hands back claimed mails not begun, due at once.
func (s *Sender) release(ctx context.Context, mails []*latchkey.Mail) {
	if len(mails) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	now := s.cfg.Now()
	for _, m := range mails {
		if m.NextAttemptAt == nil {
			continue
		}
		if err := s.cfg.Store.ReleaseMail(rctx, m.ID, *m.NextAttemptAt, now); err != nil {
			s.cfg.Logger.Warn("could not hand back a claimed mail: it waits for its lease", "mail_id", m.ID, "err", err.Error())
		}
	}
}

func (s *Sender) send(ctx context.Context, m *latchkey.Mail) error {
	msg := mail.NewMsg()
	subject, body := m.Subject, m.Body
	if name := s.cfg.ProductName; name != "" {
		if err := msg.FromFormat(name, s.cfg.From); err != nil {
			return err
		}
		if rest, ok := strings.CutPrefix(subject, "latchkey: "); ok {
			subject = name + ": " + rest
		}
		body += "\n-- \n" + name + "\n"
	} else if err := msg.From(s.cfg.From); err != nil {
		return err
	}
	if err := msg.To(m.To); err != nil {
		return err
	}
	msg.Subject(subject)
	msg.SetBodyString(mail.TypeTextPlain, body)
	msg.SetDate()
	// The Message-ID is the mail's: the rare second copy (after a crash
	// between the server's acceptance and the record) is recognisably
	// the same message, which mail stores and clients may fold into one.
	msg.SetMessageIDWithValue(m.ID + "@" + domainOf(s.cfg.From))
	return s.client.DialAndSendWithContext(ctx, msg)
}

// domainOf returns the domain of a sender address ("latchkey" without one).
func domainOf(from string) string {
	if a, err := netmail.ParseAddress(from); err == nil {
		from = a.Address
	}
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		return from[i+1:]
	}
	return "latchkey"
}
