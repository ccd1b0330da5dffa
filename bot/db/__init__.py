"""Database access: engine, tables and migrations."""
