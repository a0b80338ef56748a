"""Two replicas, each with its own knowledge-base and index folders, one database and one bus:
what the admin API changes on one is served by the other (tests/integration/test_scaleout.py
runs the shared-index case with two processes over PostgreSQL and Redis)."""

import asyncio
import shutil

from assistant.bus import InMemoryBus
from assistant.kb_admin import KnowledgeAdmin
from assistant.kb_sync import KbUploads
from assistant.storage.db import make_engine, migrate, session_factory
from knowledge_base.index import build_index
from knowledge_base.retriever import LiveRetriever
from tests.unit.test_index_files import DOCS, HashingEmbedder

ONYX = b"""---
id: prod-onyx-card
title: Larkspur Onyx Card
category: cards
---
## Annual fee
The Larkspur Onyx Card annual fee is $475 and includes airport lounge access.
"""


def replica(root, uploads, bus, embedder):
    docs, index = root / "docs", root / "index"
    shutil.copytree(DOCS, docs)
    build_index(docs, index, embedder, progress=False)
    return KnowledgeAdmin(docs_dir=docs, index_dir=index, embedder=embedder, retriever=LiveRetriever(index, embedder),
                          vector_cache=None, uploads=uploads, bus=bus)


def doc_ids(admin: KnowledgeAdmin) -> set[str]:
    return {d["doc_id"] for d in admin.documents()}


def test_an_upload_and_a_delete_reach_the_other_replica(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    migrate(engine)
    uploads, bus, embedder = KbUploads(session_factory(engine)), InMemoryBus(), HashingEmbedder()
    a = replica(tmp_path / "a", uploads, bus, embedder)
    b = replica(tmp_path / "b", uploads, bus, embedder)
    shipped = sorted(doc_ids(b))[0]

    async def until(check):
        for _ in range(200):
            if check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("replica b did not follow")

    async def scenario():
        followers = [asyncio.create_task(a.follow()), asyncio.create_task(b.follow())]
        await asyncio.sleep(0.05)
        before = b.retriever.version
        await a.put("prod-onyx-card", "prod-onyx-card.md", ONYX)
        await until(lambda: b.retriever.version != before and "prod-onyx-card" in doc_ids(b))
        hits = b.retriever.search("onyx", k=1, vector=embedder.embed_one("Larkspur Onyx Card annual fee"))
        assert hits[0].doc_id == "prod-onyx-card"
        assert await b.delete(shipped) is not None  # a shipped document, deleted on b
        await until(lambda: shipped not in doc_ids(a))
        for f in followers:
            f.cancel()

    asyncio.run(scenario())
    assert (tmp_path / "b" / "docs" / "admin-uploads" / "prod-onyx-card.md").read_bytes() == ONYX

    c_root = tmp_path / "c"  # a replica started later catches up from the database
    c = replica(c_root, uploads, bus, embedder)
    assert c.sync_at_start() and "prod-onyx-card" in doc_ids(c) and shipped not in doc_ids(c)
