"""Internal utilities (validation, devices, lazy imports). Not public API."""
