// Package readiness decides, from the objects observed in the cluster, which nodes of a
// rendered graph are ready (their readyWhen expressions) and what the instance's status is
// (the graph's status expressions). Like render, it is pure and needs no cluster.
package readiness
