package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeService is what TestComposeFile reads of a service.
type composeService struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Ports   []string `yaml:"ports"`
	Secrets []string `yaml:"secrets"`
}

// TestComposeFile holds docker-compose.yml to what no Docker engine here can
// check by running it: dependencies that exist and are waited for as they can
// be, pinned images, Temporal's images at the server version go.mod pins (the
// one dev embeds and the tests run on), and itilflow services that give serve
// what it refuses to start without. With docker-compose on the PATH it also
// runs `docker-compose config`, Compose's own validation.
func TestComposeFile(t *testing.T) {
	src, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]composeService `yaml:"services"`
		Secrets  map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*go\.temporal\.io/server v(\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod does not require go.temporal.io/server")
	}
	temporalVersion := string(m[1])

	roles := map[string]string{}
	for name, svc := range doc.Services {
		for dep, d := range svc.DependsOn {
			target, ok := doc.Services[dep]
			switch {
			case !ok:
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			case d.Condition == "service_healthy" && target.Healthcheck == nil:
				t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
			}
		}
		repo, tag, _ := strings.Cut(svc.Image, ":")
		switch {
		case svc.Build != nil:
			// Built here: the tag names the local build.
		case tag == "" || tag == "latest":
			t.Errorf("%s: image %q is not pinned to a version", name, svc.Image)
		case (repo == "temporalio/server" || repo == "temporalio/admin-tools") && tag != temporalVersion:
			t.Errorf("%s: %s, but go.mod pins go.temporal.io/server v%s", name, svc.Image, temporalVersion)
		case repo == "temporalio/auto-setup":
			t.Errorf("%s: temporalio/auto-setup is deprecated; apply the schema with admin-tools", name)
		}
		if svc.Build == nil {
			continue
		}
		// An itilflow service: serve, in a role, with what serve requires.
		i := slices.Index(svc.Command, "--role")
		if len(svc.Command) == 0 || svc.Command[0] != "serve" || i < 0 || i+1 >= len(svc.Command) {
			t.Errorf("%s: command %q, want serve --role ROLE", name, svc.Command)
			continue
		}
		if _, err := parseRole(svc.Command[i+1]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		roles[svc.Command[i+1]] = name
		for _, v := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "ITILFLOW_HTTP_ADDR"} {
			if svc.Environment[v] == "" {
				t.Errorf("%s: %s is not set", name, v)
			}
		}
		// The audit key comes from a compose secret backed by a file, never
		// the environment, where `docker inspect` shows it.
		if svc.Environment["ITILFLOW_AUDIT_KEY"] != "" {
			t.Errorf("%s: the audit key is in the environment; read it from a secret file", name)
		}
		secret, ok := strings.CutPrefix(svc.Environment["ITILFLOW_AUDIT_KEY_FILE"], "/run/secrets/")
		if !ok || !slices.Contains(svc.Secrets, secret) || doc.Secrets[secret].File == "" {
			t.Errorf("%s: ITILFLOW_AUDIT_KEY_FILE %q is not a file secret the service mounts", name, svc.Environment["ITILFLOW_AUDIT_KEY_FILE"])
		}
		if svc.Healthcheck == nil || !slices.Contains(svc.Healthcheck.Test, "health") {
			t.Errorf("%s: no health check by `itilflow health`", name)
		}
	}
	if roles["api"] == "" || roles["worker"] == "" {
		t.Errorf("itilflow services by role: %v; want an api and a worker service", roles)
	}
	// `docker compose up --scale worker=3` starts three: a published port
	// would be taken by the first.
	if w := doc.Services[roles["worker"]]; len(w.Ports) > 0 {
		t.Errorf("the worker service publishes %v: it could not scale", w.Ports)
	}

	compose, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Log("no docker-compose on the PATH: Compose's own validation skipped")
		return
	}
	out, err := exec.Command(compose, "-f", "../../docker-compose.yml", "config", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
}
