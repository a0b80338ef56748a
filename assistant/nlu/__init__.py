"""NLU: intent classifier, out-of-scope and human-request detection, sentiment (see classifier.py)."""

from assistant.nlu.classifier import MiniLMIntentClassifier, MissingArtifactError
from assistant.nlu.types import NluResult

__all__ = ["MiniLMIntentClassifier", "MissingArtifactError", "NluResult"]
