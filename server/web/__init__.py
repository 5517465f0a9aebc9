"""The public web pages of the central server (health declaration), rendered without a template engine."""
