package engine

import (
	"fmt"
	"time"
)

// TaskDone records a parallel task done in the current state.
type TaskDone struct {
	Name  string    `json:"name"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
}

func (in *Instance) taskDone(name string) *TaskDone {
	for i := range in.TasksDone {
		if in.TasksDone[i].Name == name {
			return &in.TasksDone[i]
		}
	}
	return nil
}

// joined reports whether the tasks done complete the join.
func (par *Parallel) joined(done []TaskDone) bool {
	if par.Join == JoinAny {
		return len(done) > 0
	}
	for _, t := range par.Tasks {
		found := false
		for _, d := range done {
			found = found || d.Name == t.Name
		}
		if !found {
			return false
		}
	}
	return true
}

// taskOverdue notifies the roles of a task that is past its due time.
func (in *Instance) taskOverdue(def *Definition, i int, at time.Time) {
	t := def.State(in.State).Parallel.Tasks[i]
	in.TasksOverdue = append(in.TasksOverdue, t.Name)
	in.emit(Event{At: at, Type: EventTaskOverdue, Actor: System.ID, Action: t.Name, Data: map[string]any{"due": t.Due.String(), "state": in.State}})
	msg := fmt.Sprintf("%s %s: task %s in %s is not done after %s", def.Title, in.ID, t.Name, in.State, t.Due)
	for _, r := range t.Roles {
		in.emit(Event{At: at, Type: EventNotification, Actor: System.ID, Data: map[string]any{"role": r, "message": msg}})
	}
}
