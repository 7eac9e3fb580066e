"""Local storage behind the pure layers' interfaces (the join's on-disk tier)."""
