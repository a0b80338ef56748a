"""Short replies inside a flow: yes/no to a confirmation, and cancelling the current flow.

parse_yes_no: the earliest yes-word, no-word or hedge decides ("yes but make it 300" -> True,
"no, make it 250" -> False, "that's not right" -> False, "not sure" / "maybe" -> None), except
"absolutely not" (False) and "no problem" (not a no); a lone keypad "1" (or "one") is yes and "2"
(or "two") is no; no signal -> None. The caller checks a yes for a correction.

is_cancel: "cancel", "stop", "abort", "quit", "exit" cancel the current flow when nothing or only
it/that/this/everything/please/now follows them in the clause ("cancel that", "stop!"); when they
name another object ("cancel my card", "cancel the transfer I made yesterday", "stop payment on
a check") they are a new request, not a cancel. "forget it/that/about it", "never mind",
"nevermind", "scratch that" and "(I) changed my mind" always cancel. A negation in the three words
before ("don't cancel", "I do not want to stop") means no cancel.
"""

from __future__ import annotations

from ._text import normalise, rx

_HEDGE = rx(r"\b(?:not sure|unsure|maybe|perhaps|don't know|dont know|do not know|no idea|not certain)\b")
_YES = rx(r"\b(?:yes|yeah|yea|yep|yup|ya|yah|sure|correct|confirm|confirmed|right|ok|okay|alright|absolutely|"
          r"affirmative|definitely|certainly|of course|please do|do it|go ahead|go for it|sounds good|proceed|approve|"
          r"approved|agreed|agree|fine|perfect|exactly|precisely|indeed|deal|great|cool|fantastic|excellent|"
          r"awesome|good|works for me|that works|you got it|that's what i|that is what i|suits me|very much so|"
          r"uh huh|mhm)\b")
_NO = rx(r"\b(?:no|nope|nah|negative|cancel|don't|dont|do not|not|incorrect|wrong|never|decline|deny|"
         r"i'm (?:all )?good|i am (?:all )?good)\b")  # "I'm good" declines an offer
_KEYPAD = {"1": True, "one": True, "y": True, "2": False, "two": False, "n": False}
_NEGATED_YES = rx(r"\b(?:absolutely|definitely|certainly|of course|sure|hell|obviously) not\b")
_NOT_A_NO = rx(r"\bno (?:problem|worries|doubt)\b")  # "no problem, go ahead" is not a refusal
_CANCEL_VERB = rx(r"\b(cancel|stop|abort|quit|exit|forget)\b([^.,!?;]*)")
_ALWAYS_CANCEL = rx(r"\b(?:never ?mind|nvm|scratch that|change my mind|changed my mind)\b")
_NEGATION = rx(r"\b(?:don't|dont|do not|does not|doesn't|not|never|didn't|won't|wont|can't|cant|no need to|shouldn't)\b")
_BARE_OBJECT = frozenset({"it", "that", "this", "everything", "all", "please", "pls", "now", "then", "thanks",
                          "thank", "instead", "for", "and", "ok", "okay", "right", "already"})
_FORGET_OBJECT = frozenset({"it", "that", "this", "everything", "about"})


def parse_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the reply is neither (see the module's rules)."""
    s = normalise(text).strip(" .!?,")
    if s in _KEYPAD:
        return _KEYPAD[s]
    if not s:
        return None
    if _NEGATED_YES.search(s):
        return False
    s = _NOT_A_NO.sub(" ", s)
    # The earliest signal decides; at the same place a hedge ("not sure") beats "not".
    signals = [(m.start(), rank, answer) for rank, (pattern, answer) in enumerate(
        ((_HEDGE, None), (_NO, False), (_YES, True))) for m in [pattern.search(s)] if m is not None]
    return min(signals)[2] if signals else None


def is_cancel(text: str) -> bool:
    """Whether `text` cancels the current flow (see the module's rules)."""
    s = normalise(text)
    if not s:
        return False
    if any(not _negated(s, m.start()) for m in _ALWAYS_CANCEL.finditer(s)):
        return True
    for match in _CANCEL_VERB.finditer(s):
        verb, rest = match.group(1), match.group(2).split()
        allowed = _FORGET_OBJECT if verb == "forget" else _BARE_OBJECT
        if verb == "forget" and rest[:1] == ["about"] and rest[1:2] not in (["it"], ["that"], ["this"], []):
            continue
        if (not rest or rest[0] in allowed) and not _negated(s, match.start()):
            return True
    return False


def _negated(s: str, start: int) -> bool:
    """A negation among the three words before position `start`."""
    before = " ".join(s[:start].split()[-3:])
    return _NEGATION.search(before) is not None
