"""Prompts as named constants; the bank's name is filled in from settings."""

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

DONT_KNOW = (
    "I'm sorry, I don't have information about that in our knowledge base. "
    "Would you like me to connect you with one of our agents?"
)

APOLOGY = (
    "I'm sorry, something went wrong on our side while I was answering. Please ask again, "
    "or I can connect you with an agent."
)

EXTRACTIVE_LEAD = "Here is what our {title} information says: "

# The model declined although passages were found: they are quoted, and the lead says they may not answer.
CLOSEST_LEAD = "I could not find a direct answer to that. The closest I found is in our {title} information: "

TALK_TO_AGENT = "Talk to an agent"

OUT_OF_SCOPE = (
    "I'm the bank's virtual assistant, so I can only help with banking questions, such as "
    "accounts, cards, transfers, loans and fees. Is there something banking-related I can help with?"
)

REPHRASE = "Sorry, I couldn't read that. Could you rephrase your question in a few words?"

# Advice the bank's assistant does not give: decline and say what it can help with.
ADVICE = {
    "investment": (
        "I can't give investment advice, such as whether to buy crypto, stocks or gold. I can tell you about "
        "our savings accounts, CDs and money market rates, or connect you with an agent."
    ),
    "tax": (
        "I can't give tax advice. I can help you find your tax forms (such as the 1099-INT for interest earned) "
        "and explain our accounts and fees; for your own situation, a tax professional can advise you."
    ),
    "legal": (
        "I can't give legal advice. I can explain our accounts, disputes, fees and account rules, or connect "
        "you with an agent; for your own situation, please ask a lawyer."
    ),
}

NOT_OFFERED = "We don't offer {product}. The closest product we have is our {nearest}: would you like to know more about it?"
NOT_OFFERED_PLAIN = "We don't offer {product}. I can tell you about our accounts, cards and loans instead."

CLARIFY = "I want to make sure I help with the right thing. Which of these is closest to your question?"

OFFER_AGENT = "If you'd like, I can connect you with an agent right away."

NO_AGENTS = (
    "I can't connect you with an agent from this channel right now. Please call us at "
    "1-800-555-0142, or ask me another question."
)

HANDOFF_STARTED = (
    "I'm connecting you with one of our agents. You're number {position} in the queue; the "
    "expected wait is about {minutes} minutes. You can keep writing here: the agent will see "
    "this conversation."
)

CANCEL_WAIT = "Cancel and keep chatting with the assistant"

SMALL_TALK = {
    "greeting": "Hello! I'm the bank's virtual assistant. How can I help you today?",
    "thanks": "You're welcome! Is there anything else I can help you with?",
    "goodbye": "Thank you for contacting us. Have a great day!",
}
