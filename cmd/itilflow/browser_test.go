package main

// A headless Chromium driven with chromedp, for the console's tests: it fails
// the test on any error the page reports (a console error, an uncaught
// exception, a resource that did not load, a CSP violation), and saves a
// screenshot of each page it is asked to, under the test's artifacts
// (`go test -artifacts` keeps them; see scripts/test).

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "copy the screenshots the README shows to docs/screenshots")

// browserWait bounds each step of a page: a navigation, a form sent.
const browserWait = 30 * time.Second

type browser struct {
	t    *testing.T
	base string
	ctx  context.Context
	dir  string

	mu       sync.Mutex
	problems []string
	// refusals are the paths whose 4xx answers the test expects: a browser
	// reports every such page as a failed load.
	refusals map[string]bool
}

// findChromium returns the browser's path, or skips the test: scripts/test
// installs Debian's chromium when it is missing, as it does PostgreSQL.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium: install it (apt-get install chromium) or run scripts/test")
	return ""
}

// newBrowser starts a headless Chromium with a screen of width×height CSS
// pixels (a desktop's, or a phone's), for pages of the console at base
// (host:port).
func newBrowser(t *testing.T, base string, width, height int) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(findChromium(t)),
		chromedp.WindowSize(width, height), chromedp.NoSandbox, chromedp.Flag("lang", "en-GB"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, base: "http://" + base, ctx: ctx, dir: t.ArtifactDir(), refusals: map[string]bool{}}
	err := chromedp.Listen(ctx, func(ev any) {
		var problem string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problem = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
			}
		case *runtime.EventExceptionThrown:
			problem = fmt.Sprintf("uncaught: %s at %s:%d", ev.ExceptionDetails.Text, ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber)
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				problem += " " + ex.Description
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError && !b.refused(ev.Entry) {
				problem = fmt.Sprintf("%s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if problem != "" {
			b.mu.Lock()
			b.problems = append(b.problems, problem)
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	t.Cleanup(b.checkClean)
	// A headless window is at least 500 pixels wide: a phone's screen is
	// emulated, as Chromium's device mode does.
	if width < 500 {
		b.do("emulating a phone", chromedp.EmulateViewport(int64(width), int64(height), chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	}
	return b
}

// expectRefusal tells the browser that the test expects path to answer a
// 4xx (a refused form shown again with its reason): not a page error.
func (b *browser) expectRefusal(path string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refusals[path] = true
}

// refused reports whether a log entry is the failed load of an expected
// refusal. It runs in the browser's event loop, so it takes the lock.
func (b *browser) refused(e *log.Entry) bool {
	if e.Source != log.EntrySourceNetwork {
		return false
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refusals[u.Path]
}

// checkClean fails the test with every error a page reported.
func (b *browser) checkClean() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("the browser reported: %s", p)
	}
	b.problems = nil
}

// do runs the steps, bounded by browserWait, and fails the test naming what.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
}

func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// visit opens a page of the console and waits for its main content.
func (b *browser) visit(path string) {
	b.t.Helper()
	b.do("opening "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
}

// submit sends the form holding sel (a button or a field) and waits for the
// page that answers it.
func (b *browser) submit(sel string) {
	b.t.Helper()
	b.do("sending the form of "+sel, chromedp.Evaluate[chromedp.Void](`document.body.dataset.sent = "1"`),
		chromedp.Click(chromedp.CSS(sel)), chromedp.WaitNotPresent(chromedp.CSS("body[data-sent]")), chromedp.WaitVisible(chromedp.CSS("main")))
}

// fill types text into the field, replacing what it held.
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	b.do("filling "+sel, chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose selects an option of a select, as a person would: the select
// announces the change.
func (b *browser) choose(sel, value string) {
	b.t.Helper()
	b.do("choosing "+value+" in "+sel, chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(s => { s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})) })(document.querySelector(%q))`, value, sel)))
}

// text returns the visible text of the first element sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("reading %s: %v (at %s)", sel, err, b.location())
	}
	return s
}

// has reports whether the page has an element sel matches.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		b.t.Fatalf("looking for %s: %v", sel, err)
	}
	return n > 0
}

// waitText waits until the element's text contains want. A page that
// reloads meanwhile (a process page does when its process changes) is read
// again.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(browserWait)
	for {
		got, err := b.tryText(sel)
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never showed %q; it shows %q (%v) (at %s)", sel, want, got, err, b.location())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tryText returns the visible text of the first element sel matches, or why
// it could not.
func (b *browser) tryText(sel string) (string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil || n == 0 {
		return "", fmt.Errorf("no %s (%v)", sel, err)
	}
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
}

// value returns the value of a form control.
func (b *browser) value(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("reading %s: %v (at %s)", sel, err, b.location())
	}
	return s
}

// width returns how wide, in CSS pixels, the page lays out the element and
// what it overflows into: more than the window means sideways scrolling.
func (b *browser) width(sel string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`Math.max(document.querySelector(%q).scrollWidth, document.documentElement.scrollWidth)`, sel)))
	if err != nil {
		b.t.Fatalf("measuring %s: %v", sel, err)
	}
	return w
}

// waitState waits until the process page shows the process in state (by
// its name, whatever its label in the page's language).
func (b *browser) waitState(state string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("dd.state[data-state='"+state+"']"))); err != nil {
		got := ""
		if b.has("dd.state") {
			got = b.text("dd.state")
		}
		b.t.Fatalf("the page never showed state %s; it shows %q (at %s)", state, got, b.location())
	}
}

// html returns the page's markup.
func (b *browser) html() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		b.t.Fatalf("reading the page: %v", err)
	}
	return s
}

// shot saves a screenshot of the whole page as name.png; with
// -update-screenshots, those the README shows (readme true) go to
// docs/screenshots as well.
func (b *browser) shot(name string, readme bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", file)
	if readme && *updateScreenshots {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// media lays the page out for a CSS media type: "print" as it is printed,
// "" as on the screen again.
func (b *browser) media(kind string) {
	b.t.Helper()
	b.do("emulating media "+kind, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: kind})
		return err
	}))
}

// displayed reports whether the first element sel matches is laid out (its
// CSS display is not none).
func (b *browser) displayed(sel string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).display !== "none"`, sel)))
	if err != nil {
		b.t.Fatalf("looking at %s: %v", sel, err)
	}
	return shown
}

// signIn signs in with an API token and lands on the queue.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.visit("/signin")
	b.fill("#token", token)
	b.submit("form[action='/signin'] button")
	if !b.has("form[action='/signout']") {
		b.t.Fatalf("signing in with %s: still signed out at %s: %s", token, b.location(), b.text("main"))
	}
}

// signOut signs out.
func (b *browser) signOut() {
	b.t.Helper()
	b.submit("form[action='/signout'] button")
}
