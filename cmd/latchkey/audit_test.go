package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/api/apitest"
)

// auditVerify runs `latchkey audit verify` on s's store.
func auditVerify(t *testing.T, s *testServer, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"audit", "verify", "--data-dir", s.DataDir}, args...), &out, &errb)
	return code, out.String() + errb.String()
}

func rawDB(t *testing.T, s *testServer) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(s.DataDir, "latchkey.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// An insider with the database's password edits an event (a revocation
// made to look like someone else's); `latchkey audit verify` names it.
func TestAuditVerifyNamesTheAlteredEvent(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	owner := s.login(t)
	for i := range 3 {
		in := map[string]any{"name": fmt.Sprintf("ci %d", i), "type": "public_api", "scopes": []string{"items:read"}}
		if status := s.call(t, owner, "POST", "/v1/workspaces/"+s.WorkspaceID+"/keys", in, nil); status != 201 {
			t.Fatalf("create key: %d", status)
		}
	}
	if code, out := auditVerify(t, s); code != 0 || !strings.Contains(out, s.WorkspaceID+": ") || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify on an untouched store: exit %d, %q", code, out)
	}
	var victim string
	db := rawDB(t, s)
	if err := db.QueryRow(`SELECT id FROM events WHERE workspace_id = ? AND action = 'key.created' ORDER BY seq LIMIT 1 OFFSET 1`, s.WorkspaceID).Scan(&victim); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET actor_label = 'someone-else@example.com' WHERE id = ?`, victim); err != nil {
		t.Fatal(err)
	}
	code, out := auditVerify(t, s)
	if code != 1 || !strings.Contains(out, "BROKEN at event "+victim) {
		t.Fatalf("audit verify after an edit: exit %d, %q, want 1 naming %s", code, out, victim)
	}
	if code, out := auditVerify(t, s, "--workspace", ""); code != 0 || !strings.Contains(out, "platform: ") {
		t.Fatalf("audit verify of the platform chain alone: exit %d, %q", code, out)
	}
	if code, _ := auditVerify(t, s, "extra"); code != 2 {
		t.Fatalf("audit verify with an argument: exit %d, want 2", code)
	}
}

// The head, the export, and who may read them.
func TestEventHeadAndExport(t *testing.T) {
	t.Parallel()
	w := newPrivWorld(t)
	s := w.s
	owner := s.login(t)
	for i := range 2 {
		in := map[string]any{"name": fmt.Sprintf("=HYPERLINK(\"x\") %d", i), "type": "public_api", "scopes": []string{"items:read"}}
		if status := s.call(t, owner, "POST", "/v1/workspaces/"+s.WorkspaceID+"/keys", in, nil); status != 201 {
			t.Fatalf("create key: %d", status)
		}
	}
	var list struct {
		Data []latchkey.Event `json:"data"`
	}
	s.call(t, owner, "GET", "/v1/workspaces/"+s.WorkspaceID+"/events?limit=200", nil, &list)
	var head latchkey.ChainHead
	if status := s.call(t, owner, "GET", "/v1/workspaces/"+s.WorkspaceID+"/events/head", nil, &head); status != 200 {
		t.Fatalf("head: %d", status)
	}
	if head.Seq != int64(len(list.Data)) || head.Hash != list.Data[0].Hash {
		t.Fatalf("head %+v, want seq %d and the newest event's hash %s", head, len(list.Data), list.Data[0].Hash)
	}

	// The NDJSON export alone lets a customer check the chain.
	got := send(t, owner, "GET", w.wsURL+"/events/export", nil)
	if got.status != 200 || !strings.HasPrefix(got.header.Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("export: %d %s", got.status, got.header.Get("Content-Type"))
	}
	v := latchkey.ChainVerifier{WorkspaceID: s.WorkspaceID}
	d := json.NewDecoder(bytes.NewReader(got.raw))
	d.UseNumber()
	n := 0
	for d.More() {
		var ev latchkey.Event
		if err := d.Decode(&ev); err != nil {
			t.Fatal(err)
		}
		if err := v.Next(&ev); err != nil {
			t.Fatalf("chain from the export: %v", err)
		}
		n++
	}
	if err := v.End(head); err != nil || n != len(list.Data) {
		t.Fatalf("export: %d events, %v; want %d and the head", n, err, len(list.Data))
	}

	csvGot := send(t, owner, "GET", w.wsURL+"/events/export?format=csv&action=key.created", nil)
	rows, err := csv.NewReader(bytes.NewReader(csvGot.raw)).ReadAll()
	if err != nil || csvGot.status != 200 || len(rows) != 3 || rows[0][0] != "seq" {
		t.Fatalf("CSV export: %d, %v, %q", csvGot.status, err, csvGot.raw)
	}
	for _, r := range rows[1:] {
		if strings.Contains(string(csvGot.raw), ",=HYPERLINK") || !strings.Contains(r[9], "HYPERLINK") {
			t.Errorf("CSV row %q: a key name starting with = must not reach a spreadsheet as a formula", r)
		}
	}

	v2 := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v2, s.URL, "support@vendor.example", acctPassword)
	evil := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Evil Corp", "owner": map[string]any{"email": "eve@evil.example"}})
	acctAccept(t, acctClient(v2), s.URL, acctStr(evil.body, "invite_token"), acctPassword)
	eve := acctLogin(t, v2, s.URL, "eve@evil.example", acctPassword)
	narrow := s.managementKey(t, "keys:read")
	for _, path := range []string{"/events/head", "/events/export", "/events/export?format=csv"} {
		for _, c := range []struct {
			who    string
			got    exchange
			status int
		}{
			{"a member", send(t, w.meg, "GET", w.wsURL+path, nil), 403},
			{"another workspace's owner", send(t, eve, "GET", w.wsURL+path, nil), 404},
			{"a key without events:read", send(t, acctClient(v2), "GET", w.wsURL+path, nil, "Authorization: Bearer "+narrow), 403},
			{"anonymous", send(t, acctClient(v2), "GET", w.wsURL+path, nil), 401},
		} {
			if c.got.status != c.status || bytes.Contains(c.got.raw, []byte(s.OwnerEmail)) {
				t.Errorf("%s reading %s: got %d %s, want %d and nothing of the log", c.who, path, c.got.status, c.got.raw, c.status)
			}
		}
	}
	if got := send(t, owner, "GET", w.wsURL+"/events/export?format=xml", nil); got.status != 400 {
		t.Errorf("export as xml: got %d, want 400", got.status)
	}
	// A person's email filters the log as well as their id.
	var byEmail, byID struct {
		Data []latchkey.Event `json:"data"`
	}
	s.call(t, owner, "GET", "/v1/workspaces/"+s.WorkspaceID+"/events?actor=OWNER@example.com&action=key.created", nil, &byEmail)
	s.call(t, owner, "GET", "/v1/workspaces/"+s.WorkspaceID+"/events?actor="+s.OwnerID+"&action=key.created", nil, &byID)
	if len(byEmail.Data) < 2 || len(byEmail.Data) != len(byID.Data) {
		t.Errorf("events by the owner's email: got %d, by id %d, want the same, at least 2", len(byEmail.Data), len(byID.Data))
	}
}

// An export of 100,000 events streams: the server's heap does not grow
// with the log.
func TestEventExportStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 events")
	}
	s := startServer(t)
	db := rawDB(t, s)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.Prepare(`INSERT INTO events (id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data)
		VALUES (?, ?, ?, 'user', 'usr_x', 'bulk@example.com', 'key.updated', 'key_x', '192.0.2.1', '{"changed":["name","description"]}')`)
	if err != nil {
		t.Fatal(err)
	}
	const events = 100_000
	at := time.Now().UnixMicro()
	for i := range events {
		if _, err := st.Exec(fmt.Sprintf("evt_bulk%021d", i), s.WorkspaceID, at+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	// Live heap, measured after a collection at checkpoints while the
	// export is under way: what the server holds, not garbage.
	live := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := live()
	var peak int64
	resp, err := s.login(t).Get(s.URL + "/v1/workspaces/" + s.WorkspaceID + "/events/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines, size := 0, 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines++
		size += len(sc.Bytes()) + 1
		if lines%10000 == 0 {
			peak = max(peak, live())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines < events {
		t.Fatalf("export: %d lines, want at least %d", lines, events)
	}
	grew := peak - before
	t.Logf("exported %d events, %d MB; heap grew at most %d MB", lines, size>>20, grew>>20)
	if grew > int64(size)/2 {
		t.Errorf("heap grew by %d MB while exporting %d MB: the export is buffered, not streamed", grew>>20, size>>20)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", resp.StatusCode)
	}
}
