"""One module per signal rule: named, versioned, thresholds from settings."""
