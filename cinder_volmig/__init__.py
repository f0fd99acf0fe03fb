"""cinder_volmig: a Cinder-compatible volume service (API and volume)."""
