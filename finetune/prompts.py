"""The runtime's prompt format, restated here because finetune/ never imports assistant/.

The strings must stay identical to assistant/llm/prompts.py and assistant/core/answering.py
(`Answerer._request`, `_trim`): the model is tuned on exactly what it will be served.
tests/unit/test_finetune_prompts.py fails the moment the two drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

BANK_NAME = "Larkspur Bank"

SYSTEM_PROMPT = (
    "You are the virtual assistant of {bank_name}. Answer the customer's question using only "
    "the numbered passages from the bank's knowledge base. Answer in one to three short "
    "sentences. Copy every amount, rate, number of days and time exactly as the passage "
    "states it; never estimate or invent a figure. If the passages do not answer the "
    "question, say you don't have that information and offer to connect the customer with "
    "an agent. Never ask for a full card number, PIN or password."
)
CONTEXT_TEMPLATE = "Passages:\n{passages}\n\nCustomer question: {question}"
PASSAGE_TEMPLATE = "[{n}] {title} - {section}: {text}"
# A follow-up turn refers back to the passages already given in the conversation.
FOLLOW_UP_TEMPLATE = "Customer question: {question}"

# Reference answers written for this dataset. No number words in them: the runtime's guard reads
# "one of our agents" as the figure 1 and would replace a correct refusal with an extractive answer.
DONT_KNOW = (
    "I'm sorry, I don't have that information in our knowledge base. "
    "Would you like me to connect you with an agent?"
)
DONT_KNOW_VARIANTS = (
    DONT_KNOW,
    "I don't have that information in the passages I can see, so I'd rather not guess. "
    "Would you like me to connect you with an agent?",
    "I'm sorry, I don't have that information. An agent can help with this: shall I connect you?",
)
OUT_OF_SCOPE = (
    "I'm the bank's virtual assistant, so I can only help with banking questions, such as "
    "accounts, cards, transfers, loans and fees. Is there something banking-related I can help with?"
)
HANDOFF_ANSWERS = (
    "Of course. I can connect you with an agent right away; would you like me to do that now?",
    "I'm sorry for the trouble. I can connect you with an agent, who can look into this with you. "
    "Shall I connect you now?",
)
SECURITY_ANSWER = (
    "For your security, please don't share your full card number, PIN or password here; we will never "
    "ask for them. I can connect you with an agent if you need help with your card."
)


@dataclass(frozen=True, slots=True)
class ContextPassage:
    doc_id: str
    title: str
    section: str
    text: str


def trim(text: str, limit: int = 500) -> str:
    """The runtime's passage trim: the model only ever sees the first ~500 characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def system_prompt(bank_name: str = BANK_NAME) -> str:
    return SYSTEM_PROMPT.format(bank_name=bank_name)


def user_message(question: str, passages: list[ContextPassage]) -> str:
    body = "\n".join(
        PASSAGE_TEMPLATE.format(n=i + 1, title=p.title, section=p.section or "overview", text=trim(p.text))
        for i, p in enumerate(passages)
    )
    return CONTEXT_TEMPLATE.format(passages=body, question=question)
