// Package webhook delivers the webhook outbox: signed POSTs to keys'
// callback URLs (SPEC §5), following Standard Webhooks.
//
// It is a package of its own rather than part of internal/notify, which
// speaks SMTP: this one owns an HTTP client, a signature scheme and an
// attempt log, and shares with the mail sender only the outbox pattern.
// As with mail, nothing is sent from the request or job that decides it:
// the store enqueues the delivery in the transaction of the key's event,
// and a Sender claims due deliveries with a lease, POSTs them, and records
// every attempt; a failure is retried with backoff until MaxAttempts.
//
// SSRF: a callback URL is chosen by a workspace's members, so the sender
// treats it as hostile. Every connection's address is checked when it is
// dialled (after DNS, so rebinding cannot slip past a check made when the
// key was saved): loopback, private, link-local, multicast, CGNAT,
// metadata and other non-public ranges are refused unless the operator
// allows them (Config.AllowPrivate, --webhooks-allow-private). No proxy
// from the environment, no redirect. An answer's body is never read, and
// an attempt records only the status and the time taken; every failure to
// get an answer (refused, unreachable, timed out, TLS, a refused address)
// is recorded as the one class errNoAnswer, so the outbox cannot serve as
// a port scanner. The precise cause goes to the server's log only.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// Store is the outbox a Sender drains.
type Store interface {
	ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.WebhookDelivery, error)
	RecordWebhookAttempt(ctx context.Context, a latchkey.WebhookAttempt, delivered bool, retryAt *time.Time) error
	ReleaseWebhook(ctx context.Context, id string, claimedUntil, now time.Time) error
	WebhookSecrets(ctx context.Context, workspaceID, fresh string) (*latchkey.WebhookSecrets, error)
}

// Config configures a Sender.
type Config struct {
	Store Store
	// AllowPrivate lets webhooks reach loopback, private and other
	// non-public addresses: for a latchkey whose receivers are on its own
	// network (and for tests). Off by default.
	AllowPrivate bool
	// Timeout of one POST; 10 seconds when zero.
	Timeout time.Duration
	// Interval between passes over the outbox; 10 seconds when zero.
	Interval time.Duration
	// MaxAttempts before a delivery is given up; 8 when zero.
	MaxAttempts int
	Now         func() time.Time
	// Rand generates a workspace's secret the first time it is needed.
	Rand   io.Reader
	Logger *slog.Logger
}

// Sender delivers the webhook outbox.
type Sender struct {
	cfg    Config
	client *http.Client
}

// lease hides a claimed delivery from other senders for longer than a
// POST can take, so a crashed sender's delivery is retried later.
const lease = 2 * time.Minute

// errNoAnswer is what an attempt records when no HTTP answer came, for
// whatever reason: one class, so that the outbox tells nothing about what
// listens where.
var errNoAnswer = errors.New("no answer")

// New returns a Sender; Run starts it.
func New(cfg Config) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg, client: newClient(cfg.Timeout, cfg.AllowPrivate)}
}

// Run delivers due webhooks until ctx is cancelled.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("webhook delivery pass failed", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// recordTimeout bounds recording an attempt once the sender's context is
// cancelled.
const recordTimeout = 10 * time.Second

// SendDue delivers the webhooks due now and records each attempt.
//
// Cancelling ctx (SIGTERM) stops it between deliveries: the POST in hand
// runs to its answer or its Timeout and the attempt is recorded with a
// context that outlives the cancellation, so a delivered webhook is not
// sent again; the deliveries claimed but not begun are handed back, due
// at once. Only a process killed between the receiver's answer and the
// record (SIGKILL) sends one again, after its lease, with the same
// webhook-id, which is what receivers deduplicate on.
func (s *Sender) SendDue(ctx context.Context) error {
	list, err := s.cfg.Store.ClaimWebhooks(ctx, s.cfg.Now(), lease, 50)
	if err != nil {
		return err
	}
	secrets := map[string]*latchkey.WebhookSecrets{}
	for i, d := range list {
		secret, ok := secrets[d.WorkspaceID]
		if !ok && ctx.Err() == nil {
			fresh, err := latchkey.NewWebhookSecret(s.cfg.Rand)
			if err != nil {
				s.release(ctx, list[i:])
				return err
			}
			if secret, err = s.cfg.Store.WebhookSecrets(ctx, d.WorkspaceID, fresh); err != nil {
				s.release(ctx, list[i:])
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			secrets[d.WorkspaceID] = secret
		}
		if ctx.Err() != nil {
			s.release(ctx, list[i:])
			return nil
		}
		if err := s.deliver(ctx, d, secret); err != nil {
			s.release(ctx, list[i+1:])
			return err
		}
	}
	return nil
}

// deliver POSTs d once and records the attempt, both to the end even when
// ctx is cancelled meanwhile.
func (s *Sender) deliver(ctx context.Context, d *latchkey.WebhookDelivery, secrets *latchkey.WebhookSecrets) error {
	a := latchkey.WebhookAttempt{DeliveryID: d.ID, At: s.cfg.Now()}
	start := time.Now()
	var cause error
	a.StatusCode, cause = s.post(context.WithoutCancel(ctx), d, secrets.Signing(a.At))
	a.Duration = time.Since(start)
	err := cause
	if a.StatusCode == 0 && cause != nil {
		err = errNoAnswer
	}
	var retryAt *time.Time
	if err != nil {
		a.Error = err.Error()
		if d.Attempts+1 < s.cfg.MaxAttempts {
			retry := s.cfg.Now().Add(latchkey.RetryBackoff(d.Attempts + 1))
			retryAt = &retry
		}
		s.cfg.Logger.Warn("webhook delivery failed", "delivery_id", d.ID, "key_id", d.KeyID, "type", d.Type,
			"attempt", d.Attempts+1, "status", a.StatusCode, "gave_up", retryAt == nil, "err", cause.Error())
	} else {
		s.cfg.Logger.Debug("webhook delivered", "delivery_id", d.ID, "key_id", d.KeyID, "type", d.Type,
			"attempt", d.Attempts+1, "status", a.StatusCode, "duration", a.Duration)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if rerr := s.cfg.Store.RecordWebhookAttempt(rctx, a, err == nil, retryAt); rerr != nil {
		s.cfg.Logger.Error("a webhook attempt could not be recorded: the delivery is tried again after its lease",
			"delivery_id", d.ID, "delivered", err == nil, "lease", lease.String(), "err", rerr.Error())
		return rerr
	}
	return nil
}

// release hands back claimed deliveries not begun, due at once.
func (s *Sender) release(ctx context.Context, list []*latchkey.WebhookDelivery) {
	if len(list) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	now := s.cfg.Now()
	for _, d := range list {
		if d.NextAttemptAt == nil {
			continue
		}
		if err := s.cfg.Store.ReleaseWebhook(rctx, d.ID, *d.NextAttemptAt, now); err != nil {
			s.cfg.Logger.Warn("could not hand back a claimed webhook: it waits for its lease", "delivery_id", d.ID, "err", err.Error())
		}
	}
}

// post sends d once; a nil error means a 2xx answer. With no answer, the
// error is the precise cause, for the log only.
func (s *Sender) post(ctx context.Context, d *latchkey.WebhookDelivery, secrets []string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, strings.NewReader(string(d.Payload)))
	if err != nil {
		return 0, errors.New("invalid callback URL")
	}
	ts := strconv.FormatInt(s.cfg.Now().Unix(), 10)
	sig, err := SignAll(secrets, d.ID, ts, d.Payload)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "latchkey-webhooks")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		// The bare cause: url.Error repeats the whole URL, which may
		// carry a receiver's credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	// The body is never read: what a callback URL answers is not ours to
	// keep or show. Closing it unread costs the connection's reuse, which
	// is cheap at webhook rates.
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errors.New("HTTP " + strconv.Itoa(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// SignAll returns the webhook-signature header signed with each secret:
// the signatures separated by spaces, as Standard Webhooks allows, so a
// receiver that knows either secret verifies the message.
func SignAll(secrets []string, id, timestamp string, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		sig, err := Sign(secret, id, timestamp, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Sign returns the webhook-signature header of a message: "v1," and the
// base64 of HMAC-SHA256 over id.timestamp.body, keyed with the secret's
// base64-decoded part.
func Sign(secret, id, timestamp string, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, latchkey.WebhookSecretPrefix))
	if err != nil {
		// Never the secret itself.
		return "", errors.New("the workspace's webhook secret is malformed")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
