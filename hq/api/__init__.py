"""HQ's HTTP API: routes, dependencies, error handling and request-body middleware."""
