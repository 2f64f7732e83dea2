"""Help content for members and claimants (the FAQ)."""
