"""Monitoring after launch: answer records, feedback, quality monitors, drift, content gaps
and alerts. ``service.MonitoringService`` is the entry point the facade and edges use."""
