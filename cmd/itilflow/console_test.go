package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// processPath finds the process id in a console URL.
var processPath = regexp.MustCompile(`/processes/([^/?#]+)$`)

// TestConsoleWorksAnIncidentAndACABMeeting drives the console in a real
// browser against the real stack, as its people would: an agent starts an
// incident from its form, works it (a refused resolution shows its reason at
// the field) and the service desk closes it; a CAB member votes at a meeting
// and sees the tally move. Every page is screenshotted, in English and in
// Chinese, and no page may report an error or show a missing translation.
func TestConsoleWorksAnIncidentAndACABMeeting(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	b := newBrowser(t, cfg.httpAddr, 1280, 900)

	// Signed out, every page sends to sign-in, and a wrong token is refused.
	b.visit("/queue")
	if !strings.Contains(b.location(), "/signin?next=%2Fqueue") {
		t.Fatalf("signed out, /queue went to %s, want the sign-in page", b.location())
	}
	b.shot("signin", false)
	b.expectRefusal("/signin")
	b.fill("#token", "not-a-token")
	b.submit("form[action='/signin'] button")
	b.waitText("[role=alert]", "unknown, revoked or expired")

	// Something in the queue besides the agent's own incident.
	printer := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{
		"title": "Printer on floor 3 jams", "priority": "P4"}})["id"].(string)
	c.must(201, "POST", "/api/v1/processes/incident", "dev-service-desk", map[string]any{"input": map[string]any{
		"title": "VPN drops every hour", "priority": "P2", "service": "vpn"}})

	b.signIn("dev-tier1")
	b.waitText("table.queue", "Printer on floor 3 jams")
	if q := b.text("table.queue"); strings.Index(q, "VPN drops") > strings.Index(q, "Printer on floor") {
		t.Errorf("the queue lists the P4 incident before the P2 one, whose response is due first:\n%s", q)
	}
	b.visit("/start")
	b.shot("start-list", false)
	b.visit("/start/incident")
	b.shot("start-incident", false)
	b.fill("#start-title", "Mail server down")
	b.fill("#start-description", "Nobody on the 2nd floor receives mail since 09:10.")
	b.choose("#start-priority", "P1")
	b.submit("form.start button[type=submit]")
	m := processPath.FindStringSubmatch(b.location())
	if m == nil {
		t.Fatalf("starting an incident went to %s, want its page", b.location())
	}
	id := m[1]
	b.waitText(".flash", id)
	b.waitState("new")
	b.waitText(".slas", "Response") // the SLA's label; its name is response

	b.submit("form[action='/processes/" + id + "/actions/acknowledge'] button[type=submit]")
	b.waitState("in_progress")
	b.visit("/queue")
	b.waitText("table.queue", "Mail server down")
	b.shot("queue", true)
	b.visit("/processes/" + id)
	// Only spaces: the browser sends it, the service refuses it, and the page
	// says why beside the field, keeping what was typed elsewhere.
	b.fill("#act-resolve-resolution", "   ")
	b.fill("#act-resolve-comment", "tried a restart")
	b.expectRefusal("/processes/" + id + "/actions/resolve")
	b.submit("form[action='/processes/" + id + "/actions/resolve'] button[type=submit]")
	b.waitText("#act-resolve-resolution-error", "required")
	if got := b.value("#act-resolve-comment"); got != "tried a restart" {
		t.Errorf("after the refusal the comment holds %q, want what was typed", got)
	}
	b.shot("process-refused", false)
	b.fill("#act-resolve-resolution", "Restarted the MTA; the queue drained.")
	b.submit("form[action='/processes/" + id + "/actions/resolve'] button[type=submit]")
	b.waitState("resolved")
	if b.has("form[action='/processes/" + id + "/actions/close']") {
		t.Error("tier 1 may not close an incident, yet the page offers the form")
	}
	b.signOut()
	// The auditor will look at the incident as it stood resolved: the first
	// whole second after the resolution, which the closure must not share.
	resolvedAt := actionAt(t, c.must(200, "GET", "/api/v1/processes/"+id, "dev-auditor", nil), "resolve")
	asOf := resolvedAt.Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(asOf.Add(50 * time.Millisecond)))

	b.signIn("dev-service-desk")
	// The service desk hands the printer to tom, from its page.
	b.visit("/processes/" + printer)
	b.fill("#act-assign-assignee", "tom.tier1")
	b.fill("#act-assign-assignment_group", "desktop-support")
	b.submit("form[action='/processes/" + printer + "/actions/assign'] button[type=submit]")
	b.waitText("dd.assignee", "tom.tier1")
	// Closing needs a knowledge article or the service desk's waiver (003).
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/waive_knowledge", "dev-service-desk",
		map[string]any{"input": map[string]any{"knowledge_waiver": "Restarting the MTA needs no article"}})
	b.visit("/processes/" + id)
	b.choose("#act-close-satisfaction", "5")
	b.submit("form[action='/processes/" + id + "/actions/close'] button[type=submit]")
	b.waitState("closed")
	b.waitText(".events", "Restarted the MTA")
	b.shot("process-closed", false)
	if p := c.must(200, "GET", "/api/v1/processes/"+id, "dev-auditor", nil); p["state"] != "closed" || p["started_by"] != "tom.tier1" {
		t.Fatalf("the API sees %v started by %v, want closed, started by tom.tier1", p["state"], p["started_by"])
	}
	b.signOut()

	// Tom finds his work: assigned to him, and by words of its title.
	b.signIn("dev-tier1")
	b.submit(".tabs a:nth-child(2)")
	b.waitText("table.queue", "Printer on floor 3 jams")
	if q := b.text("table.queue"); strings.Contains(q, "VPN") {
		t.Errorf("tom's own work lists the VPN incident nobody assigned:\n%s", q)
	}
	b.shot("queue-mine", false)
	// The API filters alike.
	mine := c.must(200, "GET", "/api/v1/processes?assignee=me&open=true&sort=due&q=printer", "dev-tier1", nil)
	if items, _ := mine["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != printer {
		t.Errorf("the API's list of tom's open printer work: %v", mine)
	}
	if status, body := c.outsideContract().call("GET", "/api/v1/processes?unassigned=yes", "dev-tier1", nil); status != 400 || !strings.Contains(fmt.Sprint(body), "unassigned") {
		t.Errorf("unassigned=yes: %d %v, want 400 naming the parameter", status, body)
	}
	b.visit("/queue")
	b.fill("#f-q", "vpn hour")
	b.submit(".filters button[type=submit]")
	b.waitText("table.queue", "VPN drops every hour")
	if q := b.text("table.queue"); strings.Contains(q, "Printer") {
		t.Errorf("searching for vpn hour lists the printer:\n%s", q)
	}
	b.signOut()

	// The auditor sees the incident as it stood resolved, checks that its
	// history replays, and that the audit chain holds.
	b.signIn("dev-auditor")
	b.visit("/processes/" + id)
	b.do("choosing an instant", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector("#as_of").value = %q`, asOf.UTC().Format("2006-01-02T15:04:05"))))
	b.submit(".history-tools button[type=submit]")
	b.waitText(".asof", asOf.UTC().Format("2006-01-02 15:04:05"))
	b.waitState("resolved")
	if b.has("section[aria-labelledby=actions-h]") {
		t.Error("the process as it was offers actions")
	}
	b.shot("process-as-of", false)
	b.visit("/processes/" + id)
	b.waitState("closed")
	b.submit("form[action='/processes/" + id + "/replay'] button")
	b.waitText(".replay.ok", "exactly as the history recorded")
	b.shot("process-replayed", false)
	b.visit("/audit")
	b.waitText(".verdict.ok", "The chain holds")
	b.waitText("table.audit", "tom.tier1")
	b.shot("audit", false)
	auditor := signInConsole(t, cfg.httpAddr, "dev-auditor")
	if status, csv := auditor.get("/audit/export.csv?actor=tom.tier1"); status != 200 || !strings.HasPrefix(csv, "seq,at,actor,action") || !strings.Contains(csv, "tom.tier1") {
		t.Errorf("the audit export: %d %.200s", status, csv)
	}
	if status, hist := auditor.get("/processes/" + id + "/history.json"); status != 200 || !strings.Contains(hist, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED") {
		t.Errorf("the history export: %d %.200s", status, hist)
	}
	b.signOut()

	// A CAB meeting: the member votes on an item and sees the tally move.
	change := submitToCAB(c, "dev-requester", map[string]any{"title": "Replace the core switch", "change_type": "network"})
	meeting := openCABMeeting(c, change)
	b.signIn("dev-cab1")
	b.visit("/approvals")
	b.waitText(".inbox", "Replace the core switch")
	b.shot("approvals", false)
	b.visit("/processes/" + meeting)
	b.waitText(".agenda .tally", "0 approve")
	b.waitText(".agenda .summary", "revert") // the change's back-out plan, read beside the vote
	b.fill(".agenda textarea[name=comment]", "Back-out plan is sound.")
	b.submit(".agenda form.vote button[value=approve]")
	b.waitText(".agenda .tally", "1 approve")
	b.waitText(".agenda .votes", "Back-out plan is sound.")
	if b.has(".agenda form.vote") {
		t.Error("after cara's vote the meeting still offers her a vote on the change")
	}
	// A second member's vote, cast elsewhere, reaches the open page by itself.
	if code, out := voteAtCAB(c, meeting, "dev-cab2", "approve", change, nil); code != 200 {
		t.Fatalf("cole's vote: %d %v", code, out)
	}
	b.waitText(".agenda .tally", "2 approve")
	b.shot("cab-meeting", true)

	// Approvers vote from their phones: cody votes from his inbox on a
	// 390-pixel-wide screen.
	phone := newBrowser(t, cfg.httpAddr, 390, 844)
	phone.signIn("dev-cab3")
	phone.visit("/approvals")
	phone.waitText(".inbox", "Replace the core switch")
	phone.shot("approvals.phone", false)
	if w := phone.width("main"); w > 390 {
		t.Errorf("on a phone the inbox is %d pixels wide, more than the screen", w)
	}
	phone.fill(".inbox textarea[name=comment]", "OK from the road.")
	phone.submit(".inbox button[value=approve]")
	phone.waitText(".flash", "approve")
	if phone.has(".inbox") {
		t.Error("after his vote cody's inbox still lists the change")
	}
	phone.visit("/processes/" + meeting)
	phone.waitText(".agenda .tally", "3 approve")
	phone.shot("cab-meeting.phone", false)

	// Before a holiday, cara hands her votes to ada: not to herself (refused
	// at the field), then to ada, and she ends it early.
	b.visit("/delegations")
	b.fill("#d-to", "cara.cab")
	b.do("choosing the end", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector("#d-ends").value = %q`,
		time.Now().UTC().Add(48*time.Hour).Format("2006-01-02T15:04:05"))))
	b.expectRefusal("/delegations")
	b.submit("form.delegate button[type=submit]")
	b.waitText("#d-to-error", "cannot be yourself")
	b.fill("#d-to", "ada.approver")
	b.fill("#d-reason", "On leave")
	b.submit("form.delegate button[type=submit]")
	b.waitText(".flash", "ada.approver votes for you")
	b.waitText("table.delegations", "On leave")
	b.shot("delegations", false)
	b.submit("table.delegations form button")
	b.waitText(".flash", "no longer votes for you")
	if b.has("table.delegations") {
		t.Error("the revoked delegation is still listed")
	}

	// The same pages in Chinese: every text translated, none missing.
	b.choose("#lang", "zh-Hans")
	b.do("switching language", waitLang("zh-Hans"))
	for _, page := range []struct{ path, name string }{
		{"/queue", "queue"}, {"/approvals", "approvals"}, {"/start", "start-list"}, {"/start/incident", "start-incident"},
		{"/processes/" + meeting, "cab-meeting"}, {"/processes/" + change, "change"},
	} {
		b.visit(page.path)
		if page.name == "cab-meeting" {
			b.waitText("dd.state", "会议进行中") // the definition's own Chinese label of state meeting
			b.waitText(".facts", "CAB 会议")
		}
		b.shot(page.name+".zh-Hans", false)
		checkTranslated(t, page.path+" (zh-Hans)", b.html())
	}
	b.choose("#lang", "en")
	b.do("switching language", waitLang("en"))
	for _, path := range []string{"/queue", "/approvals", "/start", "/start/incident", "/processes/" + meeting, "/processes/" + change} {
		b.visit(path)
		checkTranslated(t, path, b.html())
	}
	// A process the member may not see does not exist for her, in the
	// console as in the API.
	for _, path := range []string{"/processes/" + id, "/processes/none-such"} {
		b.expectRefusal(path)
		b.visit(path)
		b.waitText("main h1", "Not found")
		checkTranslated(t, path, b.html())
	}
	b.shot("not-found", false)
	b.signOut()
	b.visit("/signin")
	checkTranslated(t, "/signin", b.html())
}

// checkTranslated fails the test when the page shows a text whose
// translation is missing (the console marks it ⟦id⟧).
func checkTranslated(t *testing.T, page, html string) {
	t.Helper()
	if i := strings.Index(html, "⟦"); i >= 0 {
		t.Errorf("%s shows a missing translation: %s", page, html[i:min(len(html), i+60)])
	}
}

// waitLang waits for a page in the language tag.
func waitLang(tag string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS("html[lang='" + tag + "'] main"))
}

// consoleClient is a signed-in session of the console without a browser: for
// the tables that check every route as every caller.
type consoleClient struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signInConsole signs in to the console with a token and keeps the session.
func signInConsole(t testing.TB, base, token string) *consoleClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cc := &consoleClient{t: t, base: "http://" + base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	status, page := cc.get("/signin")
	if status != 200 {
		t.Fatalf("sign-in page: %d", status)
	}
	if status, page = cc.post("/signin", url.Values{"token": {token}}); status != http.StatusSeeOther {
		t.Fatalf("signing in to the console with %s: %d %s", token, status, page)
	}
	return cc
}

func (cc *consoleClient) do(req *http.Request) (int, string) {
	cc.t.Helper()
	resp, err := cc.http.Do(req)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		cc.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

// get reads a page and returns its status and markup.
func (cc *consoleClient) get(path string) (int, string) {
	cc.t.Helper()
	req, _ := http.NewRequest("GET", cc.base+path, nil)
	return cc.do(req)
}

// post sends a form, with the session's CSRF token, as a page would.
func (cc *consoleClient) post(path string, form url.Values) (int, string) {
	cc.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if cc.csrf == "" {
		cc.get("/queue")
	}
	form.Set("_csrf", cc.csrf)
	req, _ := http.NewRequest("POST", cc.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return cc.do(req)
}

// actionAt is when the process took the action (its last time).
func actionAt(t *testing.T, p map[string]any, action string) time.Time {
	t.Helper()
	var at time.Time
	for _, e := range eventsOf(p, "action") {
		if e["action"] == action {
			var err error
			if at, err = time.Parse(time.RFC3339Nano, e["at"].(string)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if at.IsZero() {
		t.Fatalf("%v never took %s: %v", p["id"], action, lastEvents(p, 10))
	}
	return at
}
