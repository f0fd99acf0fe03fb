"""The embedded default: both services, all four parts, one process."""
