"""Database backends of our own (see utils/db/mysql)."""
