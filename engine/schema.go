package engine

import "fmt"

// Schema returns the JSON Schema (draft 2020-12) of a process definition, for
// editors with the YAML language server. It is built from the same key lists the
// parser uses, so a key the parser accepts is never missing from the schema.
func Schema() map[string]any {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	names := func(desc string) map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": desc}
	}
	ref := func(def string) map[string]any { return map[string]any{"$ref": "#/$defs/" + def} }
	mapOf := func(def, desc string) map[string]any {
		return map[string]any{"type": "object", "additionalProperties": ref(def), "description": desc}
	}
	object := func(desc string, keys []string, props map[string]any, required ...string) map[string]any {
		o := map[string]any{"type": "object", "description": desc, "additionalProperties": false, "properties": properties(keys, props)}
		if len(required) > 0 {
			o["required"] = required
		}
		return o
	}
	duration := ref("duration")
	expr := func(desc string) map[string]any {
		return map[string]any{"type": "string", "description": desc + " A CEL expression over input, vars, state, actor and now."}
	}
	steps := func(desc string) map[string]any {
		return map[string]any{"type": "array", "items": ref("step"), "description": desc}
	}
	assignments := func(desc string) map[string]any {
		return map[string]any{"type": "object", "description": desc + " A string starting with = is an expression."}
	}
	instant := func(desc string) map[string]any {
		return map[string]any{"type": "string", "pattern": `^=`, "description": desc + " An expression (starting with =) giving a date and time, in the definition's calendar: = vars.month_end, = end_of_month(now)."}
	}
	percent := map[string]any{"type": []string{"string", "integer"}, "pattern": `^[0-9]+%?$`, "description": "Share of the target, 1% to 1000%, e.g. 75% or 100%."}

	defs := map[string]any{
		"duration": map[string]any{"type": "string", "pattern": `^([0-9]+(wd|[smhdw]))+$`,
			"description": "A span of business time: 90s, 15m, 4h, 2wd (working days of the calendar), or a combination such as 1h30m; 3d and 1w (24-hour days) only in a 24x7 calendar."},
		"field": object("An input field.", keysField, map[string]any{
			"type":      map[string]any{"enum": fieldTypes, "default": TypeString, "description": "The field's type. ci: the id of a configuration item of the registry; knowledge: the id of a knowledge article (a knowledge process); both are checked to exist before the process starts or the action is taken."},
			"required":  map[string]any{"type": "boolean", "default": false, "description": "The field must be given (and a string must not be empty)."},
			"default":   map[string]any{"description": "Value used when the field is not given."},
			"maxLength": map[string]any{"type": "integer", "minimum": 1, "description": "Most characters a string or text may have."},
			"values":    names("The values an enum may take."),
			"states":    names("For a knowledge field: the states the article named must be in (e.g. published), checked before the action is taken."),
		}),
		"state": object("A state of the process.", keysState, map[string]any{
			"final":     map[string]any{"type": "boolean", "default": false, "description": "The process ends when it enters this state."},
			"on_enter":  map[string]any{"type": "array", "items": ref("step"), "description": "Steps taken each time the process enters this state."},
			"actions":   mapOf("action", "Actions that move the process on from this state, by name."),
			"timers":    map[string]any{"type": "array", "items": ref("timer"), "description": "Actions the system takes after a time in this state."},
			"reminders": map[string]any{"type": "array", "items": ref("reminder"), "description": "Steps taken every period while the process stays in this state."},
			"approval": object("A vote: approve and reject become actions of the state.", keysApproval, map[string]any{
				"approvers": object("Who may vote.", keysApprovers, map[string]any{
					"roles":  names("Everyone with one of these roles; with all, majority or percent, the holders when the vote opens."),
					"users":  names("These users, or expressions giving a user or a list of them when the vote opens."),
					"groups": names("The members of these directory groups when the vote opens."),
				}),
				"mandatory": names("Users who must approve; a rejection by one of them is a veto."),
				"quorum": map[string]any{"description": "any, all, majority, {count: N} or {percent: P}.", "oneOf": []any{
					map[string]any{"enum": quorumKinds},
					object("A number or share of approvals.", keysQuorum, map[string]any{
						"count":   map[string]any{"type": "integer", "minimum": 1, "description": "This many approvals."},
						"percent": map[string]any{"type": "integer", "minimum": 1, "maximum": 100, "description": "This share of the approvers, rounded up."},
					}),
				}},
				"due":        duration,
				"on_timeout": map[string]any{"enum": timeoutKinds, "description": "What happens when the vote is due."},
				"escalate":   steps("Steps run when the vote is due and on_timeout is escalate."),
				"approved":   str("The state an approval leads to."),
				"rejected":   str("The state a rejection leads to."),
				"exclude": map[string]any{"type": "array", "items": expr("A user id or a list of them who may not vote (separation of duties)."),
					"description": "Expressions naming people with a part in the process (owner, implementer) who may not vote on it."},
				"break_glass": object("The one audited way past the vote: an action break_glass with a mandatory reason.", keysBreakGlass, map[string]any{
					"roles": names("Roles that may break the glass."),
					"to":    str("The state it leads to; default: the approved state."),
					"do":    steps("Steps it runs: start the post-implementation review, notify the change manager."),
				}, "roles"),
				"board":  str("The process whose meetings decide this approval (a CAB); then there are no approvers here."),
				"agenda": str("A list variable a collect step fills: the vote is item by item, each decision released to its process."),
			}, "approved", "rejected"),
			"parallel": object("Tasks done side by side; each is an action of the state.", keysParallel, map[string]any{
				"tasks": mapOf("task", "The tasks, by name."),
				"join":  map[string]any{"enum": joinKinds, "default": JoinAll, "description": "Move on when all tasks, or any one, are done."},
				"to":    str("The state to move to when the tasks are done."),
			}, "tasks", "to"),
		}),
		"task": object("A parallel task.", keysTask, map[string]any{
			"roles": names("Roles that may do the task, and relations ($started_by, $assignee, $input.FIELD, $vars.VARIABLE) naming people who may."),
			"due":   duration,
			"input": mapOf("field", "Input the task takes."),
		}),
		"reminder": object("Steps taken every period while the process stays in the state.", keysReminder, map[string]any{
			"every":    duration,
			"do":       map[string]any{"type": "array", "items": ref("step"), "minItems": 1, "description": "What to do each time a period passes."},
			"reset_by": names("Actions that start the period again (a progress report), so the steps run only when a whole period passes without one."),
			"when":     expr("The steps run only while this holds."),
			"until":    instant("The reminders end: no period that would end after this instant runs."),
		}, "every", "do"),
		"action": object("An action people take.", keysAction, map[string]any{
			"to":     str("The state the action leads to."),
			"roles":  names("Roles that may take the action, and relations ($started_by, $assignee, $input.FIELD, $vars.VARIABLE) naming people who may; empty: any authenticated user."),
			"input":  mapOf("field", "Input the action takes, by field name."),
			"when":   expr("A guard: the action is possible only while this holds."),
			"do":     steps("Steps run after the action's input is stored."),
			"not_by": names("Separation of duties: actions whose takers may not take this one (start: whoever started the process; vote: anyone who voted in it)."),
			"window": object("The action schedules work: its start and end datetime input fields must miss the calendar's blackouts.", keysWindow, map[string]any{
				"start": str("A required datetime input field of the action."),
				"end":   str("A required datetime input field of the action, after start."),
				"ci":    str("A string input field (of the action or the process) naming the configuration item: no two processes may schedule it at overlapping times."),
			}, "start", "end"),
		}, "to"),
		"timer": object("An action the system takes after a time in the state, or at an instant: one of after and at.", keysTimer, map[string]any{
			"after":  duration,
			"at":     instant("The instant the timer falls due (instead of after); an instant already past falls due on entering the state, one not set yet arms nothing."),
			"action": str("The action to take; one of the state's actions."),
		}, "action"),
		"sla": object("An SLA clock: it starts with the process.", keysSLA, map[string]any{
			"target":         duration,
			"by":             str("An enum input field that chooses the target, e.g. priority."),
			"targets":        map[string]any{"type": "object", "additionalProperties": duration, "description": "The target for each value of the by field."},
			"stop_on_leave":  names("States whose leaving stops the clock."),
			"stop_on_enter":  names("States whose entering stops the clock."),
			"pause_in":       names("States in which the clock pauses."),
			"start_on_enter": names("The clock starts when the process first enters one of these states."),
			"start_when":     expr("The clock starts once this holds."),
			"stop_when":      expr("The clock stops once this holds."),
			"pause_when":     expr("The clock pauses while this holds."),
			"warn_at":        percent,
			"at":             instant("The instant the clock falls due, instead of a target: its target is the business time from its start to that instant, evaluated when it starts with now the start."),
			"start_on": object("The clock starts when another clock breaches.", keysStartOn, map[string]any{
				"sla":      str("The other SLA."),
				"breached": map[string]any{"const": true, "description": "Start at its breach."},
			}, "sla", "breached"),
			"reopen": map[string]any{"enum": reopenKinds, "description": "When the process goes back to a state where the clock runs after a state stopped it: continue counts on from the time used, restart from zero. Without it the clock stays stopped."},
		}),
		"rule": object("Counts the processes on the same configuration item when this one starts, and runs steps when they are enough. The count is read by an activity and recorded in the history.", keysRule, map[string]any{
			"count": object("Which processes to count.", keysCount, map[string]any{
				"process": str("The definition whose processes to count (may be this one)."),
				"ci":      str("An input field of type ci: the processes counted name the same item."),
				"within": map[string]any{"type": "string", "pattern": `^([0-9]+[smhdw])+$`,
					"description": "How far back the processes counted started, in wall-clock time whatever the calendar: 30d is thirty days."},
			}, "process", "ci", "within"),
			"at_least": map[string]any{"type": "integer", "minimum": 2, "maximum": MaxCounted, "description": "How many processes, this one included, make the rule fire."},
			"into":     str("A list variable that receives the ids counted, oldest first, this process last."),
			"do":       map[string]any{"type": "array", "items": ref("step"), "minItems": 1, "description": "What to do when the rule fires."},
		}, "count", "at_least", "do"),
		"escalation": object("Steps taken once when an SLA has used a share of its target.", keysEscalation, map[string]any{
			"on": object("When the escalation fires.", keysOn, map[string]any{
				"sla": str("The SLA."),
				"at":  percent,
			}, "sla", "at"),
			"when": expr("The steps run only if this holds at the mark."),
			"do":   map[string]any{"type": "array", "items": ref("step"), "minItems": 1, "description": "What to do."},
		}, "on", "do"),
		"step": object("One thing an escalation does: exactly one key, and optionally when.", keysStep, map[string]any{
			"when": expr("The step runs only if this holds when its turn comes; otherwise it is passed over."),
			"notify": object("Notify a role, a user, users or a directory group: exactly one key.", keysNotify, map[string]any{
				"role": str("Everyone with this role, or with the roles an expression gives (= 'owner-' + input.service)."),
				"user": str("This user, or an expression giving one (= vars.assignee)."),
				"users": map[string]any{"description": "These users: a list of user ids and expressions each giving a user or a list of them, or one such expression (= input.affected_users).",
					"oneOf": []any{map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"type": "string"}}, map[string]any{"type": "string", "pattern": "^="}}},
				"group": str("The members of this directory group, or of the groups an expression gives (= 'users-' + input.service), resolved when the step runs and recorded."),
			}),
			"set": assignments("Process variables to set, by name."),
			"reassign": object("Hand the process to a group or a user, and tell them.", keysReassign, map[string]any{
				"group": str("The assignment group (a role)."),
				"user":  str("The assignee, or an expression giving one."),
			}),
			"raise_priority": map[string]any{"type": "integer", "minimum": 1, "description": "Levels to raise the priority input field by."},
			"action":         str("An action of the current state, taken by the system."),
			"start": object("Start another process, linked to this one.", keysStart, map[string]any{
				"process": str("The definition to start."),
				"input":   assignments("Its input, by field name."),
				"on_end":  str("An action this process takes when the other one ends; without it, the two are only linked."),
				"once":    str("A name, or an expression giving one, for the process started: start steps of any processes giving the same name start one process, and each links to it."),
			}, "process"),
			"collect": object("Gather the processes waiting for this process's meetings into an agenda.", keysCollect, map[string]any{
				"process": str("The definition whose processes to collect: those whose approval names this process as board."),
				"into":    str("The list variable that receives their ids."),
			}, "process", "into"),
			"webhook": object("Call an HTTP endpoint.", keysWebhook, map[string]any{
				"url":        str("http:// or https:// URL."),
				"method":     map[string]any{"enum": []string{"POST", "PUT", "PATCH", "GET"}, "default": "POST"},
				"body":       assignments("The JSON body, by key."),
				"timeout":    duration,
				"retries":    map[string]any{"type": "integer", "minimum": 0, "maximum": maxWebhookRetries, "default": defaultWebhookRetries},
				"result":     assignments("Variables to set from the answer: expressions over response.status and response.body."),
				"on_failure": str("An action to take when every attempt failed."),
			}, "url"),
		}),
	}
	return map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  "https://itilflow.dev/schema/process.json",
		"title":                "itilflow process definition",
		"description":          "An ITIL process for itilflow: see docs/process-language.md.",
		"type":                 "object",
		"required":             []string{"name", "initial", "states"},
		"additionalProperties": false,
		"properties": properties(keysDefinition, map[string]any{
			"name":        map[string]any{"type": "string", "pattern": nameRe.String(), "description": "The definition's name: lower case, used in URLs and process ids."},
			"title":       str("A title for people."),
			"calendar":    map[string]any{"type": "string", "default": Calendar24x7, "description": "The business calendar SLA targets and timers count in: 24x7 or one of calendars.yaml."},
			"input":       mapOf("field", "Input the process starts with, by field name."),
			"variables":   mapOf("field", "Typed variables the process keeps, by name."),
			"initial":     str("The state the process starts in."),
			"states":      map[string]any{"type": "object", "minProperties": 1, "additionalProperties": ref("state"), "description": "The states, by name."},
			"slas":        mapOf("sla", "SLA clocks, by name."),
			"escalations": map[string]any{"type": "array", "items": ref("escalation"), "description": "What happens as SLAs run out."},
			"rules":       mapOf("rule", "Rules that look at other processes when this one starts, by name."),
			"visibility": object("Who sees the processes besides the people each one names (who started it, acted on it, is assigned, approves or is notified). Auditors and admins see everything.", keysVisibility, map[string]any{
				"roles":  names("Roles that see every process of the definition; default: the staff roles the definition names (never requester)."),
				"people": names("Relations naming more people who see each process, such as $vars.watchers."),
			}),
			"labels": map[string]any{"type": "object", "description": "Display names for people, by language (a BCP 47 tag such as en or zh-Hans); pages fall back to the names.",
				"additionalProperties": object("The labels in one language.", keysLabels, map[string]any{
					"title":   str("The definition's title in this language."),
					"states":  labelMap("Labels of states, by state name."),
					"actions": labelMap("Labels of actions, by action name."),
					"fields":  labelMap("Labels of input, variable and action input fields, by field name."),
					"slas":    labelMap("Labels of SLA clocks, by SLA name."),
				})},
		}),
		"$defs": defs,
	}
}

// labelMap is the schema of a map of labels by name.
func labelMap(desc string) map[string]any {
	return map[string]any{"type": "object", "description": desc, "additionalProperties": map[string]any{"type": "string", "minLength": 1}}
}

// properties returns props for exactly the keys given: the schema of a key the
// parser accepts must be written here.
func properties(keys []string, props map[string]any) map[string]any {
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		p, ok := props[k]
		if !ok {
			panic(fmt.Sprintf("engine.Schema: no schema for key %q", k))
		}
		out[k] = p
	}
	if len(props) != len(keys) {
		panic(fmt.Sprintf("engine.Schema: schema has keys the parser does not accept: %v vs %v", props, keys))
	}
	return out
}
