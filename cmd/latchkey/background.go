package main

import (
	"context"
	"sync"

	"github.com/latchkey/latchkey/internal/jobs"
	"github.com/latchkey/latchkey/internal/notify"
)

// newJobs builds the lifecycle jobs, once the server's URL is known.
func (m *Main) newJobs() {
	jc := jobs.Config{
		Store: m.store, Invalidator: m.verifier, Interval: m.cfg.JobsInterval,
		BaseURL: m.publicURL(), Now: m.cfg.Now, Logger: m.log, Registerer: m.reg,
	}
	if m.pg != nil {
		// Every instance ticks; the advisory lock lets one work at a
		// time. The key trigger notifies every instance of deletions;
		// the local invalidation only makes this one see them sooner.
		jc.Locker = m.pg
	}
	m.jobs = jobs.New(jc)
}

// newSender builds the mail sender when SMTP is configured. A bad SMTP URL
// fails at start, not at the first mail.
func (m *Main) newSender() error {
	if m.cfg.SMTPURL == "" {
		m.log.Info("no SMTP configured: mail stays in the console's outbox")
		return nil
	}
	from := m.cfg.MailFrom
	if from == "" {
		from = "latchkey@localhost"
	}
	s, err := notify.New(notify.Config{Store: m.store, URL: m.cfg.SMTPURL, From: from, Interval: m.cfg.MailInterval, Now: m.cfg.Now, Logger: m.log, Registerer: m.reg,
		ProductName: m.cfg.Brand.Name})
	if err != nil {
		return usagef("%v", err)
	}
	m.sender = s
	return nil
}

// startBackground runs the jobs, the webhook sender and the mail sender until ctx is cancelled; the
// returned function waits for them to stop.
func (m *Main) startBackground(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() { _ = m.jobs.Run(ctx) })
	// Webhooks need no configuration: a key without a callback URL has none.
	wg.Go(func() { _ = m.webhooks.Run(ctx) })
	if m.sender != nil {
		wg.Go(func() { _ = m.sender.Run(ctx) })
	}
	return wg.Wait
}
