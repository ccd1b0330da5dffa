"""The hub's web application: customer API, WebSockets, pages."""
