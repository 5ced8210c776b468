"""factory-boy factories, one module per app (each owned by that app's work)."""
