"""YAML configuration files validated into pydantic models; a bad file is refused with its line.

pydantic's error location (`low_confidence.weak_retrieval`) is walked down the YAML node tree,
whose marks carry line numbers: `policy.yaml line 29 (low_confidence.weak_retrieval): Input
should be a valid number`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, RootModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class YamlConfigError(ValueError):
    """A malformed configuration file; the message names the file, the line and the field."""

    def __init__(self, source: str, line: int | None, where: str, message: str) -> None:
        self.line, self.where = line, where
        at = f" line {line}" if line else ""
        loc = f" ({where})" if where else ""
        super().__init__(f"{source}{at}{loc}: {message}")


class CannedReplies(RootModel[list[str]]):
    """Agents' canned replies (assistant/handoff/canned.yaml): a list of strings."""


def node_at(node: yaml.Node, loc: tuple) -> yaml.Node:
    """The deepest YAML node along pydantic's error location (a missing key stops at its mapping)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(key)), None)
            if match is None:
                return node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def parse_yaml_model(text: str, model: type[M], source: str) -> M:
    """Validate YAML text into `model`; YamlConfigError names the line and the field that is wrong."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlConfigError(source, mark.line + 1 if mark else None, "",
                              f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()  # a misspelt key is named before the key it leaves missing
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(k for k in err["loc"] if k != "root")  # a RootModel's own level
        line = node_at(root, loc).start_mark.line + 1 if root is not None else 1
        raise YamlConfigError(source, line, ".".join(map(str, loc)), err["msg"]) from None


def load_yaml_model(path: Path, model: type[M]) -> M:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlConfigError(str(path), None, "", f"cannot read: {exc.strerror or exc}") from None
    return parse_yaml_model(text, model, str(path))
