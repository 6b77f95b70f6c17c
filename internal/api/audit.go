package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// auditService is what the audit chain's head and the export use.
type auditService interface {
	EventHead(ctx context.Context, p latchkey.Principal, ws string) (latchkey.ChainHead, error)
	ExportEvents(ctx context.Context, p latchkey.Principal, ws string, f latchkey.EventFilter, fn func(*latchkey.Event) error) error
}

func (a *API) eventHead(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	h, err := a.svc.EventHead(r.Context(), p, ws)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// eventFilter reads the list's filters (action, target, actor, from, to).
func eventFilter(r *http.Request) (latchkey.EventFilter, error) {
	q, err := query(r)
	if err != nil {
		return latchkey.EventFilter{}, err
	}
	f := latchkey.EventFilter{Action: q.Get("action"), Target: q.Get("target"), Actor: q.Get("actor")}
	for name, dst := range map[string]**time.Time{"from": &f.From, "to": &f.To} {
		if s := q.Get(name); s != "" {
			t, err := parseDay(name, s)
			if err != nil {
				return f, err
			}
			*dst = &t
		}
	}
	return f, nil
}

// exportColumns are the CSV export's columns, in order.
var exportColumns = []string{"seq", "id", "at", "actor_type", "actor_id", "actor_label", "action", "target", "ip", "data", "prev_hash", "hash"}

// exportEvents streams the whole log, oldest first in chain order, as
// NDJSON (one event per line, as the list shows them) or CSV. It reads and
// writes one event at a time, so memory does not grow with the log.
func (a *API) exportEvents(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	f, err := eventFilter(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "ndjson":
		format = "ndjson"
	case "csv":
	default:
		a.fail(w, r, latchkey.Errorf(latchkey.EINVALID, "format must be ndjson or csv").WithDetail("field", "format"))
		return
	}
	// Nothing is written before the first event arrives, so that a refusal
	// (403, 404) is still a JSON error.
	rc := http.NewResponseController(w)
	buf := bufio.NewWriterSize(w, 32<<10)
	var cw *csv.Writer
	enc := json.NewEncoder(buf)
	started := false
	start := func() {
		started = true
		name := "events-" + ws + "." + format
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			cw = csv.NewWriter(buf)
			cw.Write(exportColumns)
		} else {
			w.Header().Set("Content-Type", "application/x-ndjson")
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}
	n := 0
	err = a.svc.ExportEvents(r.Context(), p, ws, f, func(ev *latchkey.Event) error {
		if !started {
			start()
		}
		if n++; n%1000 == 0 {
			// A long export keeps the connection as long as it writes.
			rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		}
		if cw == nil {
			return enc.Encode(ev)
		}
		data := ""
		if len(ev.Data) > 0 {
			b, err := json.Marshal(ev.Data)
			if err != nil {
				return err
			}
			data = string(b)
		}
		return cw.Write([]string{strconv.FormatInt(ev.Seq, 10), ev.ID, ev.At.UTC().Format(time.RFC3339Nano),
			ev.Actor.Type, cell(ev.Actor.ID), cell(ev.Actor.Label), cell(ev.Action), cell(ev.Target), cell(ev.IP), data,
			ev.PrevHash, ev.Hash})
	})
	if err != nil && !started {
		a.fail(w, r, err)
		return
	}
	if !started {
		start() // an empty log: the CSV header, or nothing
	}
	if cw != nil {
		cw.Flush()
	}
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		// Half an export must not pass for a whole one: end the
		// connection without the chunked terminator.
		a.log.Warn("event export cut short", "workspace", ws, "events", n, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// cell keeps a spreadsheet from reading text a user chose (a key's name,
// an action) as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
