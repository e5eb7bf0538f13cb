"""The route handlers of the HTTP API, one controller per resource."""
