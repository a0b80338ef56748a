"""The LLM's prompts as named constants (the bank's name is filled in from settings), and the customer-facing
texts the code uses, read from the message catalogue."""

from assistant.i18n import t

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

# The words the customer reads live in the message catalogue (assistant/locales/, docs/i18n.md);
# these names keep the code's imports. A template's {fields} are filled where it is used.
DONT_KNOW = t("answer.dont_know")
APOLOGY = t("answer.apology")
EXTRACTIVE_LEAD = t("answer.extractive_lead")
# The model declined although passages were found: they are quoted, and the lead says they may not answer.
CLOSEST_LEAD = t("answer.closest_lead")
TALK_TO_AGENT = t("chip.talk_to_agent")
OUT_OF_SCOPE = t("answer.out_of_scope")
REPHRASE = t("answer.rephrase")
# Advice the bank's assistant does not give: decline and say what it can help with.
ADVICE = {"investment": t("advice.investment"), "tax": t("advice.tax"), "legal": t("advice.legal")}
NOT_OFFERED = t("not_offered.nearest")
NOT_OFFERED_PLAIN = t("not_offered.plain")
CLARIFY = t("answer.clarify")
OFFER_AGENT = t("handoff.offer_agent")
NO_AGENTS = t("handoff.no_agents")
HANDOFF_STARTED = t("handoff.started")
CANCEL_WAIT = t("chip.cancel_wait")
SMALL_TALK = {"greeting": t("small_talk.greeting"), "thanks": t("small_talk.thanks"), "goodbye": t("small_talk.goodbye")}
