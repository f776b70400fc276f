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

	defs := map[string]any{
		"duration": map[string]any{"type": "string", "pattern": `^([0-9]+[smhdw])+$`,
			"description": "A span of business time: 90s, 15m, 4h, 3d, 1w or a combination such as 1h30m."},
		"field": object("An input field.", keysField, map[string]any{
			"type":      map[string]any{"enum": fieldTypes, "default": TypeString, "description": "The field's type."},
			"required":  map[string]any{"type": "boolean", "default": false, "description": "The field must be given (and a string must not be empty)."},
			"default":   map[string]any{"description": "Value used when the field is not given."},
			"maxLength": map[string]any{"type": "integer", "minimum": 1, "description": "Most characters a string or text may have."},
			"values":    names("The values an enum may take."),
		}),
		"state": object("A state of the process.", keysState, map[string]any{
			"final":     map[string]any{"type": "boolean", "default": false, "description": "The process ends when it enters this state."},
			"on_enter":  map[string]any{"type": "array", "items": ref("step"), "description": "Steps taken each time the process enters this state."},
			"actions":   mapOf("action", "Actions that move the process on from this state, by name."),
			"timers":    map[string]any{"type": "array", "items": ref("timer"), "description": "Actions the system takes after a time in this state."},
			"reminders": map[string]any{"type": "array", "items": ref("reminder"), "description": "Steps taken every period while the process stays in this state."},
		}),
		"reminder": object("Steps taken every period while the process stays in the state.", keysReminder, map[string]any{
			"every":    duration,
			"do":       map[string]any{"type": "array", "items": ref("step"), "minItems": 1, "description": "What to do each time a period passes."},
			"reset_by": names("Actions that start the period again (a progress report), so the steps run only when a whole period passes without one."),
		}, "every", "do"),
		"action": object("An action people take.", keysAction, map[string]any{
			"to":    str("The state the action leads to."),
			"roles": names("Roles that may take the action; empty: any authenticated user."),
			"input": mapOf("field", "Input the action takes, by field name."),
		}, "to"),
		"timer": object("An action the system takes after a time in the state.", keysTimer, map[string]any{
			"after":  duration,
			"action": str("The action to take; one of the state's actions."),
		}, "after", "action"),
		"sla": object("An SLA clock: it starts with the process.", keysSLA, map[string]any{
			"target":        duration,
			"by":            str("An enum input field that chooses the target, e.g. priority."),
			"targets":       map[string]any{"type": "object", "additionalProperties": duration, "description": "The target for each value of the by field."},
			"stop_on_leave": names("States whose leaving stops the clock."),
			"stop_on_enter": names("States whose entering stops the clock."),
			"pause_in":      names("States in which the clock pauses."),
		}),
		"escalation": object("Steps taken once when an SLA has used a share of its target.", keysEscalation, map[string]any{
			"on": object("When the escalation fires.", keysOn, map[string]any{
				"sla": str("The SLA."),
				"at":  map[string]any{"type": []string{"string", "integer"}, "pattern": `^[0-9]+%?$`, "description": "Share of the target, 1% to 1000%, e.g. 75% or 100%."},
			}, "sla", "at"),
			"do": map[string]any{"type": "array", "items": ref("step"), "minItems": 1, "description": "What to do."},
		}, "on", "do"),
		"step": object("One thing an escalation does: exactly one key.", keysStep, map[string]any{
			"notify": object("Notify a role or a user.", keysNotify, map[string]any{
				"role": str("Everyone with this role."),
				"user": str("This user."),
			}),
			"set": map[string]any{"type": "object", "description": "Process variables to set, by name."},
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
			"initial":     str("The state the process starts in."),
			"states":      map[string]any{"type": "object", "minProperties": 1, "additionalProperties": ref("state"), "description": "The states, by name."},
			"slas":        mapOf("sla", "SLA clocks, by name."),
			"escalations": map[string]any{"type": "array", "items": ref("escalation"), "description": "What happens as SLAs run out."},
		}),
		"$defs": defs,
	}
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
