"""The product's own figures for Prometheus (docs/observability.md): what the read model, the outbox and the
schedules say at scrape time, read cheaply and kept for a few seconds (`gauges.ProductGauges`)."""
