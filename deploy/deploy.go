// Package deploy holds the ways to run the exporter: a container image
// (Dockerfile), a Docker Compose stack with Prometheus, Alertmanager and
// Grafana, a kustomize base for Kubernetes and a systemd unit. Its tests
// check them offline against the exporter, the rules and the dashboards.
package deploy
