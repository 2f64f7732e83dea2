"""The claimants' FAQ over GraphQL."""
