"""Partner apps: API keys (stored hashed, revocable) with a rate and cost budget each."""
