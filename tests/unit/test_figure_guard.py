"""The figure guard reads number words as figures, while streaming and once more on the whole reply."""

import asyncio

import pytest

from assistant.config import AnsweringSettings
from assistant.core.answering import Answerer
from assistant.core.events import Reply, ReplyDelta, UserTurn
from assistant.core.grounding import check_reply
from assistant.core.pipeline import DialoguePipeline
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.repository import ConversationRepository
from knowledge_base.figures import NUMBER_WORDS
from tests.fakes import FakeKnowledge, ScriptedGenerator, passage

# A passage whose only figure is "60 days".
WIRE_DISPUTES = passage("wire-disputes", "Wire transfer disputes", "Report a wire transfer error within 60 days of the statement.")
# The examples: a number word the passage does not state.
UNSUPPORTED = ["You have thirteen days to report it.", "You get one free wire a month."]


@pytest.fixture
def repo(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    migrate(engine)
    return ConversationRepository(session_factory(engine))


def run(repo, reply: str, answerer=None):
    kb = FakeKnowledge([WIRE_DISPUTES])
    cfg = AnsweringSettings(min_relevance=0.3, faq_threshold=0.9, quote_figure_questions=False)
    p = DialoguePipeline(knowledge=kb, generator=ScriptedGenerator(reply), conversations=repo, config=cfg)
    if answerer is not None:
        p.answerer = answerer(knowledge=kb, generator=ScriptedGenerator(reply), config=cfg)

    async def go():
        return [e async for e in p.run(UserTurn("wire transfer error, what now?", "api"))]
    events = asyncio.run(go())
    return "".join(e.text for e in events if isinstance(e, ReplyDelta)), events[-1]


@pytest.mark.parametrize("sentence", UNSUPPORTED)
def test_a_number_word_no_passage_states_never_reaches_the_customer(repo, sentence):
    streamed, reply = run(repo, sentence)
    assert isinstance(reply, Reply) and reply.path == "extractive" and reply.guard == "replaced"
    word = sentence.split()[2]  # "thirteen", "one"
    assert word not in streamed and word not in reply.text
    assert "60 days" in reply.text
    stored = repo.get(reply.conversation_id).messages[-1].text
    assert word not in stored.split()


class _StreamUnchecked(Answerer):
    """The streaming guard switched off: only the final check of the whole reply stands."""

    async def _guarded(self, request, context):
        async for piece in self.generator.stream(request):
            yield piece


@pytest.mark.parametrize("sentence", UNSUPPORTED)
def test_the_whole_reply_is_checked_before_it_is_stored_and_sent(repo, sentence):
    _, reply = run(repo, sentence, answerer=_StreamUnchecked)
    assert reply.path == "extractive" and reply.guard == "replaced"
    assert sentence not in repo.get(reply.conversation_id).messages[-1].text


def test_a_supported_number_word_passes(repo):
    streamed, reply = run(repo, "You have sixty days from the statement to report it.")
    assert reply.path == "generated" and reply.guard == "passed" and "sixty days" in streamed


def test_check_reply_reads_every_number_word():
    for word in NUMBER_WORDS:
        verdict = check_reply(f"It takes {word} days.", [WIRE_DISPUTES])
        assert verdict.ok == (word == "sixty"), word
    assert check_reply("Report it within 60 days.", [WIRE_DISPUTES]).ok
    assert check_reply("No one else can report it; one of our agents can help with this one.", [WIRE_DISPUTES]).ok
