"""The sandbox core bank: its own ASGI app, tables and signing key, implementing docs/banking-api.yaml.

It never imports `assistant`: the assistant talks to it over HTTP like it would to a real bank.
"""

from sandbox_bank.config import SandboxConfig

__all__ = ["SandboxConfig"]
