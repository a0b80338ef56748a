"""Persistence: SQLAlchemy models, Alembic migrations, repositories (SQLite or PostgreSQL)."""
