package console

import (
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/itilflow/itilflow/engine"
)

// TestTimelineTellsDeadlinesAndRecipients: a timer at an instant is told by
// its instant (it has no after), and a group notice by its groups and the
// people they resolved to, in every language.
func TestTimelineTellsDeadlinesAndRecipients(t *testing.T) {
	tx, err := loadTexts()
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range languages {
		l := &locale{tag: tag, localizer: i18n.NewLocalizer(tx.bundle, tag.String())}
		for _, c := range []struct {
			e    engine.Event
			want []string
		}{
			{engine.Event{Type: engine.EventTimerFired, Action: "expire", Data: map[string]any{"at": "vars.month_end", "state": "open"}},
				[]string{"vars.month_end", "open", "expire"}},
			{engine.Event{Type: engine.EventRecipientsRequested, Data: map[string]any{"groups": []any{"users-mail"}}},
				[]string{"users-mail"}},
			{engine.Event{Type: engine.EventRecipientsResolved, Data: map[string]any{"groups": []any{"users-mail"}, "recipients": []any{"amy", "zed"}}},
				[]string{"users-mail", "amy zed"}},
		} {
			got := eventText(l, names{}, c.e)
			for _, w := range c.want {
				if !strings.Contains(got, w) || strings.Contains(got, "<no value>") || strings.Contains(got, "⟦") {
					t.Errorf("%s: %s told as %q, want %q in it", tag, c.e.Type, got, w)
				}
			}
		}
	}
}
