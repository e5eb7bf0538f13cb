"""Entrypoints: the HTTP server and the command line, driving the services."""
