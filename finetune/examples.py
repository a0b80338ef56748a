"""Training conversations: grounded answers, refusals, out-of-scope, hand-off and follow-ups.

Each example is the runtime's prompt (system prompt + numbered passages + customer question)
and a reference answer written here: concise, citing its passage as [n], using only the
passage's figures. Distractor passages come from similar chunks so the model learns to pick.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

from finetune import prompts
from finetune.facts import Fact, KbChunk
from knowledge_base.figures import figures
from knowledge_base.retriever import tokenize

OUT_OF_SCOPE_QUESTIONS = (
    "What's the weather going to be like tomorrow?", "Can you write me a poem about the ocean?",
    "Who won the football game last night?", "Which stock should I buy this week?",
    "Will bitcoin go up next month?", "How do I make lasagna?", "Can you help me with my math homework?",
    "What's the capital of Australia?", "Tell me a joke.", "How do I fix a leaking tap?",
    "What movie should I watch tonight?", "Can you book me a flight to Denver?",
    "What are the symptoms of the flu?", "Write a Python function that sorts a list.",
    "Who is the president of France?", "How many calories are in a banana?",
    "Can you recommend a good hotel in Chicago?", "What's the best phone to buy right now?",
    "Translate 'good morning' into Japanese.", "How do I train my puppy to sit?",
    "What time does the grocery store close?", "Explain quantum physics to me.",
    "Is it going to rain this weekend?", "Should I invest in gold or real estate?",
    "What's a good name for my cat?", "How tall is Mount Everest?",
    "Can you give me legal advice about my divorce?", "Which car insurance company is cheapest?",
)
HANDOFF_QUESTIONS = (
    "I want to talk to a real person.", "Can I speak to a human, please?", "Get me an agent now.",
    "This is useless, I need a person.", "Connect me with customer service.",
    "I'd like to speak with someone at the bank.", "Transfer me to a representative.",
    "You're not helping. Human please!", "Is there a real person I can chat with?",
    "I've asked three times already, let me talk to somebody.", "Agent.",
    "I need to speak to a manager about my account.", "Can a staff member call me back?",
    "I'm really upset about how my account was handled, I want someone to look at it.",
)
SECURITY_QUESTIONS = (
    "Can I give you my PIN so you can check my account?", "Here is my password, can you log in for me?",
    "Should I type my full card number here so you can look it up?", "Do you need my PIN to unblock my card?",
    "I'll send you my online banking password, is that ok?", "What's my PIN? I forgot it, can you tell me?",
)
FOLLOW_UP_LEADS = ("And {q}", "What about this: {q}", "One more thing. {q}", "Also, {q}")


@dataclass
class Example:
    id: str
    kind: str  # answer | unanswerable | out_of_scope | handoff | security | multi_turn
    group: str
    messages: list[dict]
    passages: list[dict]  # as shown in the prompt: evidence for faithfulness
    key_figures: list[str]  # figures a correct final answer states
    gold: list[int]  # 1-based passage numbers the final answer should cite
    refuse: bool
    question: str
    source: str = ""  # the fact's kind (faq | bullet | sentence | section) or the canned list

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Similarity:
    """TF-IDF over chunk tokens: picks plausible distractors, as retrieval would."""

    def __init__(self, chunks: list[KbChunk]) -> None:
        self.chunks = chunks
        self.toks = [Counter(tokenize(f"{c.passage.title} {c.passage.section} {c.passage.text}")) for c in chunks]
        df = Counter(t for bag in self.toks for t in bag)
        n = len(chunks)
        self.idf = {t: math.log(1 + n / d) for t, d in df.items()}

    def nearest(self, text: str, *, allowed, k: int = 8) -> list[KbChunk]:
        q = set(tokenize(text))
        scored = []
        for c, bag in zip(self.chunks, self.toks, strict=False):
            if allowed(c):
                s = sum(self.idf.get(t, 0.0) for t in q if t in bag)
                scored.append((s, c.chunk_id, c))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [c for _, _, c in scored[:k]]


def _shown_figures(c: KbChunk) -> set[str]:
    return figures(prompts.trim(c.passage.text)) | figures(c.passage.title)


def _cite(answer: str, n: int) -> str:
    """'... $25.' -> '... $25 [2].' : the mark names the passage the answer comes from."""
    body = answer.rstrip()
    if body.endswith((".", "!", "?")):
        return f"{body[:-1]} [{n}]{body[-1]}"
    return f"{body} [{n}]."


def _passage_json(c: KbChunk) -> dict:
    p = c.passage
    return {"doc_id": p.doc_id, "title": p.title, "section": p.section, "text": prompts.trim(p.text)}


class Builder:
    def __init__(self, sim: Similarity, rng: random.Random, pool: set[str], bank_name: str = prompts.BANK_NAME) -> None:
        self.sim, self.rng, self.pool = sim, rng, pool  # pool: groups whose chunks may appear in prompts
        self.system = prompts.system_prompt(bank_name)

    def _context_size(self) -> int:
        return self.rng.choices((1, 2, 3), weights=(2, 5, 3))[0]

    def _distractors(self, question: str, n: int, *, avoid: set[str], exclude_ids: set[str]) -> list[KbChunk]:
        """Similar chunks that do not state the answer's figures (so there is one right passage)."""
        ok = lambda c: (c.group in self.pool and c.chunk_id not in exclude_ids  # noqa: E731
                        and not (avoid and avoid & _shown_figures(c)))
        near = self.sim.nearest(question, allowed=ok, k=max(6, 2 * n))
        return self.rng.sample(near, min(n, len(near)))

    def _messages(self, turns: list[tuple[str, str]]) -> list[dict]:
        msgs = [{"role": "system", "content": self.system}]
        for user, assistant in turns:
            msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        return msgs

    def _grounded_context(self, fact: Fact, question: str, extra: int) -> tuple[list[KbChunk], int]:
        others = self._distractors(question, extra, avoid=fact.key_figures, exclude_ids={fact.chunk.chunk_id})
        ctx = list(others)
        pos = self.rng.randrange(len(ctx) + 1)
        ctx.insert(pos, fact.chunk)
        return ctx, pos + 1

    def answer(self, fact: Fact, question: str, eid: str) -> Example:
        ctx, n = self._grounded_context(fact, question, self._context_size() - 1)
        user = prompts.user_message(question, [c.passage for c in ctx])
        return Example(eid, "answer", fact.chunk.group, self._messages([(user, _cite(fact.answer, n))]),
                       [_passage_json(c) for c in ctx], sorted(fact.key_figures), [n], False, question, fact.kind)

    def unanswerable(self, fact: Fact, question: str, eid: str) -> Example | None:
        """The question's answer is not in any passage: similar chunks only, none with its figures."""
        ctx = self._distractors(question, self._context_size(), avoid=fact.key_figures, exclude_ids={fact.chunk.chunk_id})
        if not ctx or not fact.key_figures:
            return None
        user = prompts.user_message(question, [c.passage for c in ctx])
        reply = self.rng.choice(prompts.DONT_KNOW_VARIANTS)
        return Example(eid, "unanswerable", fact.chunk.group, self._messages([(user, reply)]),
                       [_passage_json(c) for c in ctx], [], [], True, question, fact.kind)

    def canned(self, kind: str, question: str, reply: str, eid: str) -> Example:
        ctx = self._distractors(question, self.rng.choice((1, 2)), avoid=set(), exclude_ids=set())
        user = prompts.user_message(question, [c.passage for c in ctx])
        return Example(eid, kind, "-", self._messages([(user, reply)]), [_passage_json(c) for c in ctx], [], [],
                       kind == "out_of_scope", question, kind)

    def follow_up(self, first: Fact, second: Fact | None, q1: str, q2: str, eid: str) -> Example:
        """Two turns over one set of passages; the second question is answered, or refused when
        `second` is None (its answer is in no passage)."""
        avoid = first.key_figures | (second.key_figures if second else set())
        chosen = [first.chunk] + ([second.chunk] if second and second.chunk.chunk_id != first.chunk.chunk_id else [])
        others = self._distractors(q1, 1, avoid=avoid, exclude_ids={c.chunk_id for c in chosen})
        ctx = chosen + others
        self.rng.shuffle(ctx)
        n1 = ctx.index(first.chunk) + 1
        follow = self.rng.choice(FOLLOW_UP_LEADS).format(q=q2[:1].lower() + q2[1:])
        if second is None:
            a2, figs, gold = self.rng.choice(prompts.DONT_KNOW_VARIANTS), [], []
        else:
            n2 = ctx.index(second.chunk) + 1
            a2, figs, gold = _cite(second.answer, n2), sorted(second.key_figures), [n2]
        turns = [(prompts.user_message(q1, [c.passage for c in ctx]), _cite(first.answer, n1)),
                 (prompts.FOLLOW_UP_TEMPLATE.format(question=follow), a2)]
        return Example(eid, "multi_turn", first.chunk.group, self._messages(turns), [_passage_json(c) for c in ctx],
                       figs, gold, second is None, follow, first.kind)
