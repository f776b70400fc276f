package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleOwnerEditsADefinition drives the process owner's pages in a real
// browser against the real stack: the owner opens the editor of a shipped
// definition, sends an action to a state that does not exist and sees the
// problem at its line:column with the line flagged — as typing pauses, and
// from the Check button as without the script — fixes it, publishes, sees
// the new version listed and compares it with the first. Every page is
// screenshotted, wide and on a phone, in English and in Chinese.
func TestConsoleOwnerEditsADefinition(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(200, "POST", "/api/v1/definitions/change-pir/retire", "dev-process-owner", map[string]any{"reason": "Folded into the emergency change."})
	// An incident for the what-if to replay: P3, not acknowledged yet.
	waiting := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "Plotter offline"}})["id"].(string)
	b := newBrowser(t, cfg.httpAddr, 1280, 900)
	b.signIn("dev-process-owner")

	b.visit("/definitions")
	b.waitText("table.catalog", "Incident")
	b.waitText("table.catalog", "Retired")
	b.waitText("nav", "Definitions")
	b.shot("owner-definitions", false)
	b.visit("/definitions/change-pir")
	b.waitText(".asof", "Folded into the emergency change.")
	b.shot("owner-definition-retired", false)
	// Reinstated, then retired again from the page: a reason is required.
	b.submit(`form[action="/definitions/change-pir/reinstate"] button`)
	b.waitText(".flash", "Reinstated change-pir")
	if b.has(".asof") {
		t.Fatal("a reinstated definition still says it is retired")
	}
	if !b.has("#retire-reason[required]") {
		t.Fatal("the reason of a retirement is not marked required")
	}
	b.fill("#retire-reason", "Folded into the emergency change, again.")
	b.submit(`form[action="/definitions/change-pir/retire"] button`)
	b.waitText(".flash", "Retired change-pir")
	b.waitText(".asof", "Folded into the emergency change, again.")
	b.visit("/definitions/incident")
	b.waitText("table.versions", "v1")
	b.waitText("table.versions", "the definitions directory")
	// Where the shipped text has its name and the acknowledge action.
	nameLine, ackLine := lineOf(t, "../../definitions/incident.yaml", "name: incident\n"), lineOf(t, "../../definitions/incident.yaml", "acknowledge: {to: in_progress,")
	L := func(n int) string { return fmt.Sprintf("L%d", n) }
	b.waitText("#source li#"+L(nameLine), "name: incident")
	// The state diagram, drawn as SVG by the server, is shown.
	b.do("waiting for the diagram", chromedp.Poll[chromedp.Void](`document.querySelector("figure.diagram img").complete`))
	if w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelector("figure.diagram img").naturalWidth`)); err != nil || w == 0 {
		t.Fatalf("the state diagram did not load: width %d, %v", w, err)
	}
	b.shot("owner-definition", false)

	b.visit("/definitions/incident/edit")
	b.waitText("#check-summary", "Not checked yet")
	original := b.value("#source")
	if !strings.HasPrefix(original, "# yaml-language-server") || !strings.HasSuffix(original, "\n") {
		t.Fatalf("the editor holds %.80q…, want the latest version's text", original)
	}
	// The line "      acknowledge: {to: in_progress, …}": its target, at
	// column 25, loses a letter. The script checks once typing pauses.
	typo := strings.Replace(original, "{to: in_progress,", "{to: in_progres,", 1)
	b.edit("#source", typo)
	b.waitText("#problems", fmt.Sprintf(`%d:25 states.new.actions.acknowledge.to: unknown state "in_progres"`, ackLine))
	b.waitText("#check-summary", "Problems found")
	if !b.has(`#problems a[href="#`+L(ackLine)+`"]`) || !b.has("#numbered li#"+L(ackLine)+".flagged") {
		t.Fatalf("the problem does not link to line %d, or the line is not flagged:\n%s", ackLine, b.text("form.editor"))
	}
	if b.has("#numbered li#" + L(ackLine-1) + ".flagged") {
		t.Errorf("line %d is flagged, though nothing is wrong with it", ackLine-1)
	}
	b.shot("owner-editor-problem", false)
	// Following the problem's link shows its line.
	b.do("following the problem's link", chromedp.Click(chromedp.CSS(`#problems a[href="#`+L(ackLine)+`"]`)))
	if loc := b.location(); !strings.HasSuffix(loc, "#"+L(ackLine)) {
		t.Errorf("the problem's link went to %s, want #%s", loc, L(ackLine))
	}

	// Without the script, the Check button answers the same, on the page.
	b.expectRefusal("/definitions/incident/edit")
	b.submit(`button[value=check]`)
	b.waitText("#problems", fmt.Sprintf("%d:25", ackLine))
	if !b.has("#numbered li#"+L(ackLine)+".flagged") || b.value("#source") != typo {
		t.Fatalf("after Check, line %d is not flagged or the text is not what was sent", ackLine)
	}

	// A name that is not the edited definition's is refused at its line.
	b.edit("#source", strings.Replace(original, "name: incident", "name: incidents", 1))
	b.submit(`button[value=publish]`)
	b.waitText("#problems", fmt.Sprintf(`%d:7 name: is "incidents" but the URL says "incident"`, nameLine))
	if !b.has("#numbered li#" + L(nameLine) + ".flagged") {
		t.Error("the line of the name is not flagged")
	}

	// Fixed, and a real change: the owner publishes version 2.
	fixed := strings.Replace(original, "title: Incident\n", "title: Incident (reviewed by the owner)\n", 1)
	b.edit("#source", fixed)
	b.waitText("#check-summary", "No problems")
	if b.has("#numbered li.flagged") {
		t.Error("a line is still flagged after the fix")
	}
	b.shot("owner-editor-valid", false)
	// Its scenario tests run against the text before it is published: one
	// holds, one expects what does not happen.
	b.edit("#scenarios", `tests:
  - name: Acknowledged in time
    input: {title: Printer jams, priority: P3}
    steps:
      - {at: 10m, action: acknowledge, as: [tier1]}
      - at: 11m
        expect: {state: in_progress, slas: {response: {status: stopped, breached: false}}}
  - name: A wrong expectation
    input: {title: Printer jams, priority: P3}
    steps:
      - at: 1m
        expect: {state: closed}
`)
	b.submit(`button[value=test]`)
	b.waitText("#tests-summary", "1 passed, 1 failed")
	b.waitText("ul.results li.bad", "A wrong expectation")
	b.shot("owner-editor-tests", false)
	// What if the P3 response target were a second? The waiting incident
	// would have breached it; nothing is published by asking.
	b.edit("#source", strings.Replace(fixed, "targets: {P1: 30m, P2: 30m, P3: 2h, P4: 4h}", "targets: {P1: 30m, P2: 30m, P3: 1s, P4: 4h}", 1))
	time.Sleep(1100 * time.Millisecond)
	b.fill("#days", "7")
	b.submit(`button[value=whatif]`)
	b.waitText("#whatif-summary", "would go differently; SLA breaches 0 → 1")
	b.waitText("section.whatif ul.results", waiting)
	b.shot("owner-editor-whatif", false)
	b.edit("#source", fixed)
	b.submit(`button[value=publish]`)
	if loc := b.location(); !strings.HasSuffix(loc, "/definitions/incident") {
		t.Fatalf("publishing went to %s, want the definition's page", loc)
	}
	b.waitText(".flash", "Published incident version 2.")
	b.waitText("table.versions", "v2")
	b.waitText("table.versions", "the console or the API")
	b.waitText("h1", "Incident (reviewed by the owner)")

	// Publishing the same text again changes nothing, and says so.
	b.visit("/definitions/incident/edit")
	b.submit(`button[value=publish]`)
	b.waitText(".flash", "Nothing changed: version 2 of incident already has this text.")

	// The two versions compared, from the form.
	b.choose("#from", "1")
	b.choose("#to", "2")
	b.submit(`form[action="/definitions/incident"] button[type=submit]`)
	b.waitText("pre.diff .del", "-title: Incident")
	b.waitText("pre.diff .add", "+title: Incident (reviewed by the owner)")
	b.waitText("pre.diff", "+++ incident v2")
	b.shot("owner-diff", false)
	b.do("opening the state diagram", chromedp.Click(chromedp.CSS("details.graph summary")))
	b.waitText("details.graph pre", "stateDiagram")
	b.shot("owner-graph", false)

	// A definition of its own, from the editor of new ones.
	b.visit("/definitions/new")
	b.shot("owner-editor-new", false)
	b.submit(`button[value=publish]`)
	b.waitText(".flash", "Published my-process version 1.")
	b.visit("/definitions/new")
	b.expectRefusal("/definitions/new")
	b.submit(`button[value=publish]`)
	b.waitText("#problems", `name: is "my-process", which is taken`)

	// In Chinese: every text translated, none missing.
	b.choose("#lang", "zh-Hans")
	b.do("switching language", waitLang("zh-Hans"))
	for _, page := range []struct{ path, name string }{
		{"/definitions", "owner-definitions"}, {"/definitions/incident?from=1&to=2", "owner-diff"},
		{"/definitions/incident/edit", "owner-editor"},
	} {
		b.visit(page.path)
		b.shot(page.name+".zh-Hans", false)
		checkTranslated(t, page.path+" (zh-Hans)", b.html())
	}
	b.edit("#source", typo)
	b.waitText("#check-summary", "发现")
	b.shot("owner-editor-problem.zh-Hans", false)
	b.choose("#lang", "en")
	b.do("switching language", waitLang("en"))
	for _, path := range []string{"/definitions", "/definitions/incident", "/definitions/incident/edit", "/definitions/new"} {
		b.visit(path)
		checkTranslated(t, path, b.html())
	}

	// On a phone: nothing wider than the screen.
	phone := newBrowser(t, cfg.httpAddr, 390, 844)
	phone.signIn("dev-process-owner")
	for _, page := range []struct{ path, name string }{
		{"/definitions", "owner-definitions.phone"}, {"/definitions/incident?from=1&to=2", "owner-diff.phone"},
		{"/definitions/incident/edit", "owner-editor.phone"},
	} {
		phone.visit(page.path)
		if page.name == "owner-editor.phone" {
			phone.edit("#source", typo)
			phone.waitText("#problems", fmt.Sprintf("%d:25", ackLine))
		}
		phone.shot(page.name, false)
		if w := phone.width("main"); w > 390 {
			t.Errorf("on a phone %s is %d pixels wide, more than the screen", page.path, w)
		}
	}

	// The owner's pages are not a requester's: not in the menu, and refused.
	other := newBrowser(t, cfg.httpAddr, 1280, 900)
	other.signIn("dev-requester")
	if other.has(`nav a[href="/definitions"]`) {
		t.Error("a requester's menu offers the definitions")
	}
	other.expectRefusal("/definitions/incident/edit")
	other.visit("/definitions/incident/edit")
	other.waitText("main h1", "Not allowed")
}

// edit replaces the text of a textarea as typing would, announcing the
// change, so that the page's script sees it.
func (b *browser) edit(sel, text string) {
	b.t.Helper()
	b.do("editing "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(a => { a.value = %q; a.dispatchEvent(new Event("input", {bubbles: true})) })(document.querySelector(%q))`, text, sel)))
}

// lineOf is the number of the first line of file that holds text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(src), text)
	if i < 0 {
		t.Fatalf("%s has no %q", file, text)
	}
	return strings.Count(string(src[:i]), "\n") + 1
}
