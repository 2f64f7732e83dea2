"""The member's message centre: what happened to their claims (and later requests), in-app."""
