package cluster

import (
	"fmt"
	"os"
	"text/template"
)

// temporalConfig is what the server's YAML is written from.
type temporalConfig struct {
	DBHost, DBUser  string
	DBPort          int
	Shards          int
	Frontend        int // the frontend's gRPC port; the SDK's address
	GRPC            map[string]int
	Membership      map[string]int
	DynamicConfig   string // path of the dynamic config file
	LogLevel        string
	MaxConnsDefault int
	MaxConnsVisible int
}

// temporalServices are the services one server process runs.
var temporalServices = []string{"frontend", "history", "matching", "worker"}

// configTemplate follows the module's config/development-postgres12.yaml, on
// loopback ports of our choosing, without metrics or pprof listeners and
// without archival. The pools are small: the four services each keep their own
// per store, and PostgreSQL also serves the itilflow processes.
var configTemplate = template.Must(template.New("temporal").Parse(`# Written by package cluster (itilflow); see cluster/temporalconfig.go.
log:
  stdout: true
  level: {{.LogLevel}}

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: {{.Shards}}
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "{{.DBHost}}:{{.DBPort}}"
        connectProtocol: tcp
        user: {{.DBUser}}
        maxConns: {{.MaxConnsDefault}}
        maxIdleConns: {{.MaxConnsDefault}}
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "{{.DBHost}}:{{.DBPort}}"
        connectProtocol: tcp
        user: {{.DBUser}}
        maxConns: {{.MaxConnsVisible}}
        maxIdleConns: {{.MaxConnsVisible}}
        maxConnLifetime: 1h

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1

services:
{{- range $svc, $port := .GRPC}}
  {{$svc}}:
    rpc:
      grpcPort: {{$port}}
      membershipPort: {{index $.Membership $svc}}
      bindOnLocalHost: true
{{- end}}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:{{.Frontend}}"

dcRedirectionPolicy:
  policy: noop

archival:
  history:
    state: disabled
  visibility:
    state: disabled

namespaceDefaults:
  archival:
    history:
      state: disabled
    visibility:
      state: disabled

# The worker service's system workflows use this client.
publicClient:
  hostPort: "127.0.0.1:{{.Frontend}}"

dynamicConfigClient:
  filepath: "{{.DynamicConfig}}"
  pollInterval: 10s
`))

// dynamicConfig is the embedded dev server's (temporalserver's
// devDynamicConfig) as YAML: search attributes read from the database, so
// one added by serve is usable at once, and workflow updates, which
// UpdateWithStart needs, pinned on.
const dynamicConfig = `# Written by package cluster (itilflow); see cluster/temporalconfig.go.
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
`

// writeTemporalConfig writes the server's config and dynamic config files.
func writeTemporalConfig(path string, cfg temporalConfig) error {
	if err := os.WriteFile(cfg.DynamicConfig, []byte(dynamicConfig), 0o644); err != nil {
		return fmt.Errorf("cluster: write Temporal's dynamic config: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cluster: write Temporal's config: %w", err)
	}
	if err := configTemplate.Execute(f, cfg); err != nil {
		f.Close()
		return fmt.Errorf("cluster: write Temporal's config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cluster: write Temporal's config: %w", err)
	}
	return nil
}
