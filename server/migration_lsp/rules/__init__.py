"""Rules: one check each over the normalized model; see `registry.RULES`."""
