package activities_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/itilflow/itilflow/activities"
)

type directory struct {
	roles, groups []string
	err           error
}

func (d *directory) Members(_ context.Context, roles, groups []string) ([]string, error) {
	d.roles, d.groups = roles, groups
	return []string{"amy", "zed"}, d.err
}

func TestResolveRecipients(t *testing.T) {
	t.Run("AsksTheDirectoryForTheGroupsMembersOnly", func(t *testing.T) {
		d := &directory{}
		got, err := (&activities.Activities{Directory: d}).ResolveRecipients(context.Background(),
			activities.RecipientsInput{Process: "major-incident-000001", Groups: []string{"users-network"}})
		if err != nil || !slices.Equal(got, []string{"amy", "zed"}) || d.roles != nil || !slices.Equal(d.groups, []string{"users-network"}) {
			t.Fatalf("got %v %v; asked roles %v groups %v", got, err, d.roles, d.groups)
		}
	})
	t.Run("ADirectoryDownIsRetried", func(t *testing.T) {
		_, err := (&activities.Activities{Directory: &directory{err: errors.New("connection refused")}}).ResolveRecipients(context.Background(),
			activities.RecipientsInput{Process: "p", Groups: []string{"g"}})
		if err == nil || nonRetryable(err) {
			t.Fatalf("got %v, want a retryable error", err)
		}
	})
	t.Run("NoDirectoryIsAFailureForGood", func(t *testing.T) {
		_, err := (&activities.Activities{}).ResolveRecipients(context.Background(), activities.RecipientsInput{Groups: []string{"g"}})
		if !nonRetryable(err) {
			t.Fatalf("got %v, want a non-retryable configuration error", err)
		}
	})
}
