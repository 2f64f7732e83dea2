"""Direct-billing services for high-end members: appointments and the coordinator desk."""
