"""Training lines for the human-request head, generated from templates with a fixed seed.

Positives: direct requests, indirect ones (distrust of a machine, wanting someone who works
at the bank), and requests joined to a banking question, a complaint or thanks, in either
order ("Thanks, but these fees still confuse me. Can I speak with somebody?"). The questions
come from the BANKING77 rows of the training split only. Negatives: banking messages that
mention people, reading or repeating but ask for no person ("pay my landlord", "read me my
balance"). The test set (finetune/data/human_request_fresh.yaml) was written separately.
"""

from __future__ import annotations

import random

TARGETS = [
    "a person", "someone", "somebody", "a human", "a human being", "an agent", "a real person", "a live agent",
    "one of your staff", "an employee", "a representative", "a rep", "an advisor", "a banker", "someone from the bank",
    "a member of your team", "customer service", "a manager", "a supervisor", "someone who works there",
    "someone who actually works at the bank", "an actual human", "a real human", "someone real", "your support team",
    "a staff member", "one of your people", "someone in customer care", "the fraud team", "a specialist",
]
SPEAK = ["speak to", "talk to", "speak with", "talk with", "chat with", "have a word with", "get through to", "reach"]
DIRECT = [
    "can I {speak} {t}", "could I {speak} {t}", "I want to {speak} {t}", "I'd like to {speak} {t}", "I need to {speak} {t}",
    "let me {speak} {t}", "is it possible to {speak} {t}", "is there any way to {speak} {t}", "how do I {speak} {t}",
    "please connect me to {t}", "connect me with {t}", "put me through to {t}", "transfer me to {t}", "get me {t}",
    "I need {t}", "I want {t}", "can you get {t} to call me", "have {t} call me back", "can {t} phone me",
    "is there {t} I can talk to", "can {t} help me instead", "I'd rather deal with {t}", "pass me to {t}",
    "hand me over to {t}", "I'd prefer to sort this out with {t}", "can I get {t} on the phone", "{t} please",
    "can {t} look at this", "I'd like {t} to go through this with me", "who can I talk to about this",
]
MACHINE = ["a machine", "a bot", "a chatbot", "a computer", "a robot", "an AI", "a program", "an automated system", "software"]
INDIRECT = [
    "I'm not comfortable giving my {info} to {m}", "I don't want to give my {info} to {m}",
    "I'd rather not share my {info} with {m}", "I don't trust {m} with my {info}", "I won't tell {m} my {info}",
    "I'm not discussing this with {m}", "I don't want to deal with {m}", "I'd rather not explain this to {m}",
    "{m} can't help me with this", "I don't feel safe typing my {info} into {m}", "I'm not talking to {m} about my money",
    "no offence but I don't want {m} handling this", "is this {m}? I'd like someone real",
    "am I talking to {m}? I want a person", "I don't like talking to {m}", "this needs a human touch, not {m}",
    "I would feel better if someone at the bank handled this", "I want someone who works at the bank to see this",
    "is anyone real there", "are there any humans I can talk to", "does a real person ever read these",
    "you keep giving me the same answer, I need {t}", "we're going round in circles here", "this chat is getting me nowhere",
    "I need this escalated", "escalate this please", "can this go to {t}", "operator", "operator!!", "agent!",
]
INFO = ["details", "personal details", "information", "account number", "card details", "social security number", "problem"]
LEADS = [
    "Thanks, but {q}.", "thanks but {q}", "Sorry, {q}.", "{q}.", "{q}?", "ok but {q}", "That didn't help, {q}.",
    "I still don't get it, {q}.", "hi, {q}.", "{q},", "honestly {q}.", "these fees still confuse me.", "this makes no sense to me.",
    "I've tried everything.", "the app isn't working.", "I'm really worried about this.", "my card was declined again.",
    "I don't understand the answer.", "I'm confused about my statement.", "this is taking forever.",
]
TAILS = ["", "?", ".", " please", " please.", ", thanks", " asap", " right now", " about this", " about my account"]

NEG_VERBS = ["send", "move", "transfer", "pay", "wire", "give", "send some money to", "make a payment to"]
NEG_PEOPLE = ["my landlord", "my sister", "my brother", "my mum", "my dad", "a friend", "my friend", "my roommate",
              "my babysitter", "my plumber", "my son", "my daughter", "my wife", "my husband", "my partner",
              "my boss", "my tenant", "a colleague", "my cleaner", "John", "Maria", "someone", "somebody", "a person",
              "another person", "my employee", "my contractor", "the seller"]
NEG_TEMPLATES = [
    "I'd like to {v} money to {p}", "{v} 50 dollars to {p}", "can I {v} money to {p} abroad", "how do I {v} {p} money",
    "I want to {v} {p}", "{v} {p} from my checking", "{p} sent me money but it hasn't arrived", "how do I add {p} to my account",
    "can {p} use my card", "{p} needs access to my statements", "is there a fee to send money to {p}",
    "how long does it take for {p} to receive my transfer", "I sent money to {p} by mistake", "{p} lost my card",
    "can I open an account for {p}", "what details do I need to pay {p}", "I paid {p} twice",
]
TOPICS = ["my overdraft options", "my savings options", "getting a loan", "my spending this month", "a payment",
          "my statement", "my mortgage", "the fees", "my card limit", "a transfer", "opening an account",
          "my credit card bill", "interest rates", "my direct debits", "a refund", "my pending payment"]
STAFF = ["agent", "advisor", "person at the branch", "branch staff", "customer service rep", "manager", "banker", "lady on the phone"]
NEG_TOPIC = [
    "I want to talk about {x}", "can I talk about {x} here", "let's talk about {x}", "I'd like to discuss {x}",
    "can we discuss {x}", "can you help me with {x}", "quick one about {x}", "I have a question about {x}",
    "tell me about {x}", "can you explain {x}", "talk me through {x}", "I need help with {x}",
]
NEG_STAFF = [
    "the {s} I spoke to yesterday fixed it", "your {s} was really helpful", "the {s} told me to use the app",
    "I already called and the {s} said it would be sorted", "thanks, the {s} sorted it out", "a {s} told me about this fee",
]
NEG_SOMEONE = [
    "someone has my card details", "someone called me claiming to be from the bank, is that real",
    "someone used my card without asking", "someone sent me a strange text about my account", "I think someone hacked my account",
    "can I send money to people with their phone number", "can I pay people from the app", "what is a human rights lawyer",
]
NAMES = ["Amir", "Maria", "Raghav", "Rachel", "Bob", "Xiao", "my pal Sam", "my landlord", "my savings", "my checking"]
NEG_SLOT = ["to {n}", "send it to {n}", "please send the money to {n}", "{a} dollars please", "{a} bucks to {n}",
            "transfer {a} to {n}", "from my checking account", "checking account, please", "the savings one",
            "yes, send it to {n}", "her name is {n}", "make it {a}"]
NEG_FIXED = NEG_SOMEONE + [
    "ok", "ok thanks", "okay, thank you", "yes please", "yes, please do", "thanks a lot", "that's all, thanks",
    "sounds good", "alright", "got it, thanks", "approved, please proceed", "okay, show me the balance please",
    "thanks, and now my balance please", "talk to you later", "take care", "that information was useful",
    "read me what it says", "read me my balance", "read me my last transactions", "read out my account number",
    "tell me my balance", "tell me what I spent this week", "say that again", "say it again slower", "repeat that please",
    "can you repeat the last part", "what did you say", "show me my statement", "explain this charge to me",
    "help me understand this fee", "what does this mean", "talk me through setting up a transfer",
    "can you walk me through the app", "I'd like to speak Spanish", "speak louder", "can I call to activate my card",
    "I need to make a call about my card later", "my phone number changed", "the person at the branch was very helpful",
    "my advisor told me about this account", "I talked to someone yesterday and they said it was fixed",
    "a human error caused this charge", "how do I report someone who scammed me", "someone is using my card",
    "someone took money from my account", "a person called me pretending to be the bank",
]


def _render(rng: random.Random, template: str) -> str:
    return template.format(speak=rng.choice(SPEAK), t=rng.choice(TARGETS), m=rng.choice(MACHINE), info=rng.choice(INFO))


def _style(rng: random.Random, text: str) -> str:
    r = rng.random()
    if r < 0.3:
        return text.lower().rstrip("?.!,")
    if r < 0.4:
        return text.upper() if len(text) < 40 else text
    return text[0].upper() + text[1:]


def human_positives(questions: list[str], *, n: int = 1600, seed: int = 13) -> list[str]:
    """`questions`: banking messages from the training split, joined to requests in half the lines."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        kind = rng.random()
        request = _render(rng, rng.choice(DIRECT)) + rng.choice(TAILS) if kind < 0.6 else _render(rng, rng.choice(INDIRECT))
        if rng.random() < 0.5:
            lead = rng.choice(LEADS).format(q=rng.choice(questions).rstrip("?.! ").lower())
            text = f"{lead} {request}" if rng.random() < 0.7 else f"{request}. {lead}"
        else:
            text = request
        out.add(_style(rng, " ".join(text.split())))
    return sorted(out)


def human_negatives(*, n: int = 1000, seed: int = 13) -> list[str]:
    rng = random.Random(seed + 1)
    out: set[str] = set(NEG_FIXED)
    while len(out) < n:
        r = rng.random()
        if r < 0.4:
            t = rng.choice(NEG_TEMPLATES).format(v=rng.choice(NEG_VERBS), p=rng.choice(NEG_PEOPLE))
        elif r < 0.55:
            t = rng.choice(NEG_SLOT).format(n=rng.choice(NAMES), a=rng.choice(["50", "200", "1580", "$75", "one thousand"]))
        elif r < 0.8:
            t = rng.choice(NEG_TOPIC).format(x=rng.choice(TOPICS))
        else:
            t = rng.choice(NEG_STAFF).format(s=rng.choice(STAFF))
        out.add(_style(rng, t))
    return sorted(out)
