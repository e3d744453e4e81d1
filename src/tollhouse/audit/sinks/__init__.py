"""Copies of durable audit records sent elsewhere: OpenTelemetry (OTLP/HTTP) and a SIEM webhook."""
