"""The member's message centre and preferred language over GraphQL."""
