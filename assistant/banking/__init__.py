"""Self-service's way to core banking (BankingBackend over HTTP) and to who the customer is
(signed identity assertions). docs/banking.md describes the contract."""

from assistant.banking.backend import BankingBackend, new_idempotency_key
from assistant.banking.breaker import CircuitBreaker
from assistant.banking.errors import BackendUnavailable, BankingError, BankingFailure
from assistant.banking.http import HttpBankingBackend
from assistant.banking.identity import AssertionRejected, IdentityVerifier, VerifiedIdentity, verify_assertion

__all__ = ["AssertionRejected", "BackendUnavailable", "BankingBackend", "BankingError", "BankingFailure",
           "CircuitBreaker", "HttpBankingBackend", "IdentityVerifier", "VerifiedIdentity", "new_idempotency_key",
           "verify_assertion"]
