package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/service"
)

// inboxEntry is one vote waiting for the person, with what the change says.
type inboxEntry struct {
	service.InboxItem
	Facts []fact
}

// approvalsPage is the person's inbox: every vote waiting for them, each with
// the change's summary, risk and plans, its tally and due time, to approve or
// reject with a comment in one step.
func (c *Console) approvalsPage(ec echo.Context) error {
	ctx := ec.Request().Context()
	inbox, err := c.svc.Inbox(ctx, c.caller(ec))
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(inbox.Approvals))
	for _, it := range inbox.Approvals {
		ids = append(ids, decidedOn(it))
	}
	facts := c.factsByID(ctx, c.localeOf(ec), c.caller(ec), ids)
	entries := make([]inboxEntry, len(inbox.Approvals))
	for i, it := range inbox.Approvals {
		entries[i] = inboxEntry{InboxItem: it, Facts: facts[decidedOn(it)]}
	}
	return c.render(ec, http.StatusOK, "approvals", map[string]any{"Approvals": entries})
}

// decidedOn is the process a vote decides: the change on a meeting's agenda,
// else the process itself.
func decidedOn(it service.InboxItem) string {
	if it.Item != nil {
		return it.Item.ID
	}
	return it.ID
}
