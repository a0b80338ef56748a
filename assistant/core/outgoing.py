"""What the bank's own words never do, whoever wrote them: checks on text on its way to a customer.

Applied to knowledge-base passages before a model or a quote sees them (a planted sentence is dropped)
and to every sentence of a generated reply before it streams (a reply that does it is replaced):
- point to a web or e-mail address outside the bank's domains ("email ... to verify@evil.example");
- ask the customer to send, tell or read out a secret ("call 1-900-... and read out your password",
  "reply with your one-time code and your PIN"); "Never share your PIN" is the opposite and stays;
- ask for money to be sent to an account number the text gives ("send a $1 payment to account 9988776655").
Each pattern is bounded, so a check costs linear time.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE
# The bank's own sites, and public ones its documents cite (any *.gov); settings can replace the list.
DEFAULT_LINK_DOMAINS = ("larkspurbank.example", "larkspur.example", "gov", "annualcreditreport.com")
_TLDS = frozenset(re.findall(r"\w+", (
    "com net org gov edu mil int io co us uk ca de fr es it nl ru cn jp in br au info biz xyz app site online top club "
    "example test local dev me tk ml ga cf gq pw cc tv ws link click shop store bank money finance loan support help "
    "secure live pro vip win icu buzz cloud ly to sh ai eu ch")))
ADDRESS = re.compile(
    r"\b[\w.+-]{1,64}@([a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8})"  # an e-mail address: its domain
    r"|\b(?:https?://|www\.)([a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8})"  # a link: its host
    r"|\b([a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63}){1,8})\b", _I)  # a bare host name, if its last label is a TLD
_SECRET = (r"pin|pins|password|passwords|passcode|cvv2?|cvc|security code|one-time code|verification code|otp|"
           r"(?:full |whole |complete |16-digit )?card numbers?|ssn|social security number|photo of your card|"
           r"expiry date|expiration date|login details|credentials")
_HAND_OVER = (r"send|sending|email|e-mail|text|txt|message|give|tell|share|read out|read|say|reply with|respond with|"
              r"reply to|fax|forward|dictate|post|upload")
# The reader's own secret: "email your full card number", "fax their ... online banking password".
SOLICITS = re.compile(rf"\b(?:{_HAND_OVER})\b[^.!?\n]{{0,60}}?\b(?:your|their|his|her|the customer'?s?)\b"
                      rf"[^.!?\n]{{0,40}}?\b(?:{_SECRET})\b", _I)
_NEGATED = re.compile(r"\b(?:never|don'?t|do not|won'?t|will not|no one|nobody|not|nor|avoid|refuse|beware)\b", _I)
PAYS_OUT = re.compile(r"\b(?:send|wire|transfer|pay|deposit|move)\b[^.!?\n]{0,60}?\bto (?:the )?(?:account|acct|iban|wallet)"
                      r"(?: number)?\s*(?:no\.?\s*|#\s*)?\d[\d -]{5,}", _I)
# Where a streamed reply must wait for its sentence's end before it is checked: an address or a secret's name.
HOLD = re.compile(rf"@|https?:|www\.|\.(?:{'|'.join(sorted(_TLDS))})\b|\b(?:{_SECRET})\b", _I)


def foreign_addresses(text: str, domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS) -> list[str]:
    """Web and e-mail addresses in `text` whose host is none of `domains` nor below one of them."""
    out = []
    for m in ADDRESS.finditer(text):
        host = next(g for g in m.groups() if g).lower().strip(".-")
        if m.group(3) and host.rsplit(".", 1)[-1] not in _TLDS:  # "1.5", "U.S", "p.m": no host
            continue
        if not any(host == d or host.endswith("." + d) for d in domains):
            out.append(host)
    return out


def solicits_secret(sentence: str) -> bool:
    """Asks the reader to hand over a PIN, password, code or card number ("email your PIN to ..."),
    unless the sentence warns against it ("never share your PIN")."""
    m = SOLICITS.search(sentence)
    return m is not None and not _NEGATED.search(sentence, 0, m.end())


def unsafe_sentence(sentence: str, domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS) -> str | None:
    """Why the bank would never say this sentence to a customer, or None."""
    if foreign_addresses(sentence, domains):
        return "an address outside the bank's domains"
    if solicits_secret(sentence):
        return "asks for a secret"
    if PAYS_OUT.search(sentence):
        return "asks for money sent to a given account"
    return None
