package cluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports are drawn from below Linux's ephemeral range (32768 and up): Temporal
// keeps its membership ports in a PostgreSQL smallint (cluster_membership.
// rpc_port), which a port the kernel hands out for ":0" overflows.
const (
	lowestPort  = 10000
	highestPort = 32767
)

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment
// ago. All listeners are held until every port is chosen, so the n differ.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("cluster: no free port between %d and %d after %d tries", lowestPort, highestPort, tries)
		}
		port := lowestPort + rand.IntN(highestPort-lowestPort+1)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // in use
		}
		defer l.Close()
		ports = append(ports, port)
	}
	return ports, nil
}
