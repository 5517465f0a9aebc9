"""The web console: server-rendered pages (Jinja2) for health officers, venue managers and administrators.

`install(app)` adds its routes, its static files and its error pages to the FastAPI app. Pages depend on
`server.console.web.require_console_user(*roles)`; see docs/console.md for how to add one.
"""
