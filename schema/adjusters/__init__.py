"""The claims back office: adjusters sign in, work the queue and decide claims."""
