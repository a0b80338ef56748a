"""What a phone caller types on the keypad, turned into answers for the dialogue.

Outside an entry, 0 asks for an agent (the voice session handles it). While the dialogue waits for a
read-back answer, 1 is yes and 2 is no. While it waits for a one-time code or for a keypad sign-in,
digits are collected until # (or `max_digits`), and * starts the entry again; 0 is then a digit.
A sign-in takes two entries: the customer number, then the phone PIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.i18n import t

Mode = Literal["code", "number", "pin"]

CONFIRM = t("keypad.confirm")
PROMPTS: dict[Mode, str] = {"number": t("keypad.number"), "pin": t("keypad.pin"), "code": t("keypad.code")}


@dataclass(frozen=True, slots=True)
class Entry:
    mode: Mode
    digits: str


@dataclass(frozen=True, slots=True)
class Answer:
    text: str  # what the caller's keypress means, as a turn ("yes", "no")


class Keypad:
    """One call's keypad state: `expect` what the dialogue waits for, then `press` each digit."""

    def __init__(self, max_digits: int = 12) -> None:
        self.max_digits = max_digits
        self.mode: Mode | None = None
        self.confirming = False
        self._digits: list[str] = []

    def expect(self, awaiting: str | None, *, sign_in: bool) -> str | None:
        """After each reply: what the flow waits for (FlowInfo.awaiting). Returns a prompt to add, if any."""
        self._digits.clear()
        self.confirming = awaiting == "confirm"
        if awaiting == "identity" and sign_in:
            self.mode = "number"
        elif awaiting == "code":
            self.mode = "code"
        else:
            self.mode = None
        if self.confirming:
            return CONFIRM
        return PROMPTS[self.mode] if self.mode in ("number", "code") else None


    def press(self, digit: str) -> Entry | Answer | Literal["agent"] | None:
        """A finished entry, a yes/no answer, "agent" (0 outside an entry), or None (keep listening)."""
        if self.mode is None:
            if digit == "0":
                return "agent"
            if self.confirming and digit in ("1", "2"):
                self.confirming = False
                return Answer("yes" if digit == "1" else "no")
            return None
        if digit == "*":
            self._digits.clear()
            return None
        if digit == "#" and not self._digits:
            return None  # an empty entry: keep listening
        if digit == "#" or (digit.isdigit() and len(self._digits) + 1 >= self.max_digits):
            if digit.isdigit():
                self._digits.append(digit)
            entry = Entry(self.mode, "".join(self._digits))
            self._digits.clear()
            self.mode = "pin" if entry.mode == "number" else None  # a customer number is followed by the PIN
            return entry
        if digit.isdigit():
            self._digits.append(digit)
        return None

    def cancel(self) -> None:
        self.mode, self.confirming = None, False
        self._digits.clear()
