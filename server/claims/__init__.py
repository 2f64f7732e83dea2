"""Claims: plan rules, self-service drafts and submission, progress, adjusters, supplements."""
