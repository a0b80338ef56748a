"""Intent, out-of-domain and human-request classifier training (see README.md)."""
