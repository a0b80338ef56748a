"""Self-service flows as data: YAML files validated into these models at start-up.

A flow collects slots, reads back what will happen, runs actions on the banking backend and
says the outcome. Each step does exactly one thing; a malformed file is refused with its path
and the step that is wrong (`FlowError`), so a typo never reaches a customer.
"""

from __future__ import annotations

import string
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.dialogue.actions import MUTATING

DEFAULT_FLOWS = Path(__file__).resolve().parent / "flows"
SlotType = Literal["amount", "account", "payee", "destination", "card", "date", "merchant", "digits", "choice", "text",
                   "contact"]
STEP_KINDS = ("collect", "action", "confirm", "step_up", "say", "answer", "link", "handoff")
_FORMATTER = string.Formatter()


class FlowError(ValueError):
    """A flow file that cannot be used, naming the file and the step."""


class Slot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: SlotType
    ask: str
    reask: str | None = None  # said after an answer that does not fit; `ask` when absent
    max_retries: int = Field(default=2, ge=0, le=5)
    min: Decimal | None = None  # amounts: the smallest accepted
    max: Decimal | None = None  # amounts: the largest accepted without a person
    # type choice: each answer and the words that pick it ({"stolen": ["stole", "theft"]}); a list means no synonyms
    choices: dict[str, tuple[str, ...]] = {}
    optional: bool = False  # a collect step for it may be passed with nothing said
    digits: tuple[int, int] = (4, 8)  # type digits: accepted lengths
    role: Literal["from", "to"] | None = None  # accounts: which side of "from checking to savings"
    card_states: tuple[str, ...] = ()  # cards: the states this flow acts on ("freeze" an active card), to pick among several
    default: str | None = None  # read as if the customer had said it when the step is reached unfilled ("checking")


    @field_validator("choices", mode="before")
    @classmethod
    def _choice_list(cls, v: object) -> object:
        return {c: () for c in v} if isinstance(v, list | tuple) else v


class Step(BaseModel):
    """One thing the flow does. `branch` maps an action's outcome code ("ok", "insufficient_funds",
    "default") to the step that follows; otherwise the next step in the list follows."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    collect: str | None = None
    action: str | None = None
    args: dict[str, str] = {}
    confirm: str | None = None
    step_up: str | None = None  # what the code protects ("this payment"): a one-time code is sent and checked
    say: str | None = None
    answer: str | None = None  # a knowledge-base question answered with citations
    link: str | None = None  # another flow to continue with
    handoff: str | None = None  # the reason recorded on the ticket
    branch: dict[str, str] = {}
    next: str | None = None
    end: bool = False
    when: str | None = None  # run only when this value is set and not "false": a result, a slot, or slot.key ("to.payee")

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [k for k in STEP_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a step does exactly one of {', '.join(STEP_KINDS)}; this one has {kinds or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in STEP_KINDS if getattr(self, k) is not None)

    @property
    def arg(self) -> str:
        """The value of the step's one kind field: `collect: amount` -> "amount" (the validator ensures it is set)."""
        return str(getattr(self, self.kind))


class Triggers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intents: tuple[str, ...] = ()  # classifier intents (BANKING77 names) that start the flow when confident
    examples: tuple[str, ...] = ()  # what a customer says to start it; matched by meaning


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    title: str  # how the flow is named to the customer ("a transfer between your accounts")
    requires_identity: bool = True
    triggers: Triggers = Triggers()
    slots: dict[str, Slot] = {}
    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def after(self, step_id: str) -> str | None:
        ids = [s.id for s in self.steps]
        i = ids.index(step_id)
        return ids[i + 1] if i + 1 < len(ids) else None


def _template_fields(text: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in _FORMATTER.parse(text) if name}


def _check(flow: Flow, names: set[str], actions: set[str] | None) -> None:
    """Cross-references a schema cannot see: step ids, slots, links, actions, template fields."""
    ids = [s.id for s in flow.steps]
    if len(ids) != len(set(ids)):
        raise ValueError(f"step ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    for s in flow.steps:
        where = f"step '{s.id}'"
        targets = [*s.branch.values(), *([s.next] if s.next else [])]
        for t in targets:
            if t not in ids:
                raise ValueError(f"{where} goes to unknown step '{t}'")
        if s.collect is not None and s.collect not in flow.slots:
            raise ValueError(f"{where} collects unknown slot '{s.collect}'")
        if s.link is not None and s.link not in names:
            raise ValueError(f"{where} links to unknown flow '{s.link}'")
        if s.action is not None and actions is not None and s.action not in actions:
            raise ValueError(f"{where} calls unknown action '{s.action}' (known: {', '.join(sorted(actions))})")
        if s.action in MUTATING and not any(p.confirm for p in flow.steps[: ids.index(s.id)]):
            raise ValueError(f"{where} changes money or a card ('{s.action}') without a confirm step before it")
        for arg, slot in s.args.items():
            if slot not in flow.slots:
                raise ValueError(f"{where} passes unknown slot '{slot}' as '{arg}'")
        for text in (s.confirm, s.say, s.step_up, *(sl.ask for sl in flow.slots.values())):
            if text is not None:
                try:
                    _template_fields(text)
                except ValueError as exc:
                    raise ValueError(f"{where}: bad template {text!r}: {exc}") from exc


def load_flows(directory: Path = DEFAULT_FLOWS, *, actions: set[str] | None = None) -> dict[str, Flow]:
    """Every *.yaml flow in `directory`, checked; FlowError names the file and what is wrong."""
    raw: dict[str, tuple[Path, dict]] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise FlowError(f"{path}: cannot read: {exc}") from exc
        if not isinstance(data, dict) or "name" not in data:
            raise FlowError(f"{path}: a flow file is a mapping with a name")
        raw[str(data["name"])] = (path, data)
    flows: dict[str, Flow] = {}
    for name, (path, data) in raw.items():
        try:
            flows[name] = Flow.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = first["loc"]
            step = ""
            if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
                steps = data.get("steps") or []
                step = f" step {loc[1] + 1} ('{steps[loc[1]].get('id', '?')}')" if loc[1] < len(steps) else ""
            raise FlowError(f"{path}:{step} {'.'.join(map(str, loc))}: {first['msg']}") from exc
    for name, flow in flows.items():
        try:
            _check(flow, set(flows), actions)
        except ValueError as exc:
            raise FlowError(f"{raw[name][0]}: {exc}") from exc
    return flows


def render(template: str, values: dict[str, object]) -> str:
    """Fill {names} from `values`; a missing name stays visible as its braces, never raises."""
    out = []
    for literal, name, spec, _ in _FORMATTER.parse(template):
        out.append(literal)
        if name:
            value = values.get(name)
            out.append("{" + name + "}" if value is None else format(value, spec or ""))
    return "".join(out)
