"""The knowledge-base loop over the real services (MiniLM, FAISS, SmolLM2, SQLite) on a copy of the KB:
roles, drafts, 409 on concurrent edits, malformed documents refused with their line, review and
publish (a regulation needs a second person), the chat answering with what was published, versions,
rollback and a refused rollback, "try it" without touching the live index, and FAQs drafted from
customers' questions."""

import uuid

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.kb_editor.validate import PLACEHOLDER
from tests.conftest import KB_ADMIN_TOKEN

PW = "tangerine-ladder-42"
ADMIN = {"authorization": f"Bearer {KB_ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def kb(kb_services):
    with TestClient(create_app(kb_services.settings, kb_services)) as c:
        yield c


@pytest.fixture(scope="module")
def staff(kb, kb_services):
    """Bearer headers of an editor, two approvers and an agent."""
    heads = {}
    for who, roles in {"ed": ["kb_editor"], "ann": ["kb_approver"], "bob": ["kb_approver"], "al": ["agent"]}.items():
        name = f"{who}-{uuid.uuid4().hex[:6]}"
        kb_services.agents.add(name, PW, display_name=who.title(), role=roles)
        token = kb.post("/v1/agent/login", json={"username": name, "password": PW}).json()["token"]
        heads[who] = {"authorization": f"Bearer {token}"}
    return heads


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def faq(title: str, questions: list[str], answer: str, answer_doc: str = "") -> dict:
    return {"title": title, "questions": questions, "answer": answer, "answer_doc": answer_doc}


def new_draft(kb, who: dict, doc_id: str, **body) -> dict:
    r = kb.post("/v1/kb-editor/drafts", json={"doc_id": doc_id, **body}, headers=who)
    assert r.status_code == 201, r.text
    return r.json()


def submit(kb, who: dict, d: dict) -> dict:
    r = kb.post(f"/v1/kb-editor/drafts/{d['id']}/submit", json={"revision": d["revision"]}, headers=who)
    assert r.status_code == 200, r.text
    return r.json()


def publish(kb, who: dict, d: dict, status: int = 200) -> dict:
    r = kb.post(f"/v1/kb-editor/drafts/{d['id']}/publish", json={"revision": d["revision"]}, headers=who)
    assert r.status_code == status, r.text
    return r.json()


def chat(kb, message: str) -> dict:
    r = kb.post("/v1/chat", json={"message": message})
    assert r.status_code == 200, r.text
    return r.json()


def regulation(doc_id: str, body: str) -> str:
    return (f"---\nid: {doc_id}\ntitle: Test rule {doc_id}\ncategory: regulation\neffective_date: 2020-01-01\n"
            f"source: 12 CFR 9999.1\n---\n## The rule\n{body}\n")


def test_roles_gate_every_route(kb, staff):
    r = kb.get("/v1/kb-editor/drafts", headers=staff["al"])
    assert r.status_code == 403 and "kb_editor or kb_approver role" in r.json()["detail"]
    assert kb.post("/v1/kb-editor/drafts", json={"doc_id": uid("faq-x")}, headers=staff["al"]).status_code == 403
    assert kb.get("/v1/kb-editor/drafts").status_code == 401
    assert kb.get("/v1/kb-editor/me", headers=staff["al"]).json()["can_edit"] is False
    d = submit(kb, staff["ed"], new_draft(kb, staff["ed"], uid("faq-role"), faq=faq("Q?", ["q"], "A.")))
    r = kb.post(f"/v1/kb-editor/drafts/{d['id']}/publish", json={"revision": d["revision"]}, headers=staff["ed"])
    assert r.status_code == 403 and "kb_approver role" in r.json()["detail"]
    r = kb.post(f"/v1/kb-editor/drafts/{d['id']}/send-back", json={"revision": d["revision"], "note": "x"}, headers=staff["ed"])
    assert r.status_code == 403


def test_a_regulation_needs_a_second_person(kb, staff):
    doc_id = uid("reg-kbtest")
    d = submit(kb, staff["ann"], new_draft(kb, staff["ann"], doc_id, content=regulation(doc_id, "Notices go out in 17 days.")))
    assert d["regulation"] is True and d["can_publish"] is False and "second person" in d["why_not"]
    r = kb.post(f"/v1/kb-editor/drafts/{d['id']}/publish", json={"revision": d["revision"]}, headers=staff["ann"])
    assert r.status_code == 403 and "second person" in r.json()["detail"]
    assert kb.post(f"/v1/kb-editor/drafts/{d['id']}/publish", json={"revision": d["revision"]},
                   headers=staff["ed"]).status_code == 403  # an editor publishes nothing
    assert kb.get(f"/v1/kb-editor/drafts/{d['id']}", headers=staff["bob"]).json()["can_publish"] is True
    out = publish(kb, staff["bob"], d)
    assert out["version"] == 1 and out["draft"]["status"] == "published"
    hits = kb.get("/v1/kb/search", params={"q": f"Test rule {doc_id} notices", "k": 3}).json()["results"]
    assert hits[0]["doc_id"] == doc_id


def test_concurrent_edits_are_detected_and_nothing_is_overwritten(kb, staff):
    doc_id = uid("faq-race")
    d = new_draft(kb, staff["ed"], doc_id, faq=faq("Race?", ["race"], "First."))
    mine = kb.put(f"/v1/kb-editor/drafts/{d['id']}", json={"revision": 1, "faq": faq("Race?", ["race"], "Editor's text.")},
                  headers=staff["ed"])
    assert mine.status_code == 200 and mine.json()["revision"] == 2
    theirs = kb.put(f"/v1/kb-editor/drafts/{d['id']}", json={"revision": 1, "faq": faq("Race?", ["race"], "Approver's text.")},
                    headers=staff["ann"])
    assert theirs.status_code == 409 and "nothing was overwritten" in theirs.json()["detail"]
    assert kb.get(f"/v1/kb-editor/drafts/{d['id']}", headers=staff["ed"]).json()["faq"]["answer"] == "Editor's text."

    # two drafts of one published document: the second publish would overwrite the first
    one = publish(kb, staff["ann"], submit(kb, staff["ed"], mine.json()))
    assert one["version"] == 1
    a = new_draft(kb, staff["ed"], doc_id)
    b = new_draft(kb, staff["bob"], doc_id)
    for draft, text in ((a, "Answer A."), (b, "Answer B.")):
        saved = kb.put(f"/v1/kb-editor/drafts/{draft['id']}", json={"revision": 1, "faq": faq("Race?", ["race"], text)},
                       headers=staff["ed"])
        draft.update(submit(kb, staff["ed"], saved.json()))
    publish(kb, staff["ann"], a)
    refused = publish(kb, staff["ann"], b, status=409)
    assert "published by someone else" in refused["detail"]
    assert kb.get(f"/v1/kb-editor/drafts/{b['id']}", headers=staff["ed"]).json()["stale"] is True
    assert "Answer A." in kb.get(f"/v1/kb-editor/documents/{doc_id}", headers=staff["ed"]).json()["content"]


@pytest.mark.parametrize(("content", "line", "words"), [
    ("---\nid: {d}\ntitle: T\ncategory: cards\nsource: [unclosed\n---\nBody\n", 5, "not valid YAML"),
    ("---\nid: {d}\ntitle: T\ncategory: cards\n---\n\n", 6, "no body"),
    ("no front matter\n", 1, "front matter"),
    ("---\nid: {d}\ntitle: T\ncategory: faq\nquestions:\n  - ok\n  - [nested]\n---\nA.\n", 7, "question 2"),
    ("---\nid: {d}\ntitle: T\ncategory: faq\nanswer_doc: prod-nowhere\nquestions: [q]\n---\nA.\n", 5, "no published document"),
])
def test_a_malformed_document_is_refused_with_its_line(kb, staff, content, line, words):
    doc_id = uid("prod-bad")
    d = new_draft(kb, staff["ed"], doc_id, content=regulation(doc_id, "Fine.").replace("regulation", "cards"))
    r = kb.put(f"/v1/kb-editor/drafts/{d['id']}", json={"revision": 1, "content": content.format(d=doc_id)}, headers=staff["ed"])
    if words == "no published document":  # a broken reference may be saved, but never submitted
        assert r.status_code == 200
        r = kb.post(f"/v1/kb-editor/drafts/{d['id']}/submit", json={"revision": 2}, headers=staff["ed"])
    assert r.status_code == 422, r.text
    assert r.json()["line"] == line and r.json()["detail"].startswith(f"line {line}: ") and words in r.json()["detail"]


def test_publish_answers_in_chat_versions_rollback_and_a_refused_rollback(kb, staff):
    product, entry = uid("prod-kbtest"), uid("faq-kbtest")
    card = f"---\nid: {product}\ntitle: Larkspur Zephyr Card {product}\ncategory: cards\n---\n## Fee\nThe Zephyr card costs $12.\n"
    publish(kb, staff["ann"], submit(kb, staff["ed"], new_draft(kb, staff["ed"], product, content=card)))
    q = "does the zephyr card come with airport lounge visits"  # real words: random letters read as keyboard mashing
    v1 = faq("Zephyr lounge?", [q], "Zephyr card holders get free lounge visits.", answer_doc=product)
    publish(kb, staff["ann"], submit(kb, staff["ed"], new_draft(kb, staff["ed"], entry, faq=v1)))
    reply = chat(kb, q)
    assert reply["reply"] == v1["answer"] and reply["citations"][0]["doc_id"] == entry

    d = new_draft(kb, staff["ed"], entry)
    v2 = faq("Zephyr lounge?", [q], "Zephyr card holders pay for lounge visits.")  # answer_doc dropped
    d = kb.put(f"/v1/kb-editor/drafts/{d['id']}", json={"revision": 1, "faq": v2}, headers=staff["ed"]).json()
    assert "-Zephyr card holders get free" in d["diff"] and "+Zephyr card holders pay" in d["diff"]
    assert publish(kb, staff["ann"], submit(kb, staff["ed"], d))["version"] == 2
    assert chat(kb, q)["reply"] == v2["answer"]
    versions = kb.get(f"/v1/kb-editor/documents/{entry}", headers=staff["ed"]).json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    full = kb.get(f"/v1/kb-editor/documents/{entry}/versions/2", headers=staff["ed"]).json()
    assert "+Zephyr card holders pay" in full["diff"] and full["content"].endswith("pay for lounge visits.\n")

    # one click back to version 1 (an editor may not; an approver may)
    body = {"version": 1, "current_version": 2}
    assert kb.post(f"/v1/kb-editor/documents/{entry}/rollback", json=body, headers=staff["ed"]).status_code == 403
    r = kb.post(f"/v1/kb-editor/documents/{entry}/rollback", json=body, headers=staff["bob"])
    assert r.status_code == 200 and r.json()["version"] == 3
    assert chat(kb, q)["reply"] == v1["answer"]
    assert kb.post(f"/v1/kb-editor/documents/{entry}/rollback", json=body, headers=staff["bob"]).status_code == 409  # stale

    # version 2 again, then the product version 1 names is deleted (admin API): version 1 no longer validates
    assert kb.post(f"/v1/kb-editor/documents/{entry}/rollback", json={"version": 2, "current_version": 3},
                   headers=staff["bob"]).json()["version"] == 4
    assert kb.delete(f"/v1/admin/kb/documents/{product}", headers=ADMIN).status_code == 200
    r = kb.post(f"/v1/kb-editor/documents/{entry}/rollback", json={"version": 1, "current_version": 4}, headers=staff["bob"])
    assert r.status_code == 422, r.text
    first = kb.get(f"/v1/kb-editor/documents/{entry}/versions/1", headers=staff["ed"]).json()["content"]
    line = next(i for i, t in enumerate(first.split("\n"), start=1) if t.startswith("answer_doc:"))
    assert r.json()["line"] == line and "version 1 cannot be restored" in r.json()["detail"]
    assert chat(kb, q)["reply"] == v2["answer"]  # nothing changed
    assert len(kb.get(f"/v1/kb-editor/documents/{entry}", headers=staff["ed"]).json()["versions"]) == 4


def test_try_it_answers_from_the_draft_and_leaves_the_live_index_alone(kb, kb_services, staff):
    entry = uid("faq-try")
    q = "are seashells accepted as a mortgage payment"
    answer = "We accept mortgage payments in US dollars only; seashells are not accepted."
    d = new_draft(kb, staff["ed"], entry, faq=faq("Seashell payments?", [q], answer))
    live = kb_services.retriever.version
    r = kb.post(f"/v1/kb-editor/drafts/{d['id']}/try", json={"question": q}, headers=staff["ed"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["path"] == "faq" and out["answer"] == answer and out["cites_draft"] is True
    assert out["citations"][0]["doc_id"] == entry
    assert kb_services.retriever.version == live
    assert chat(kb, q)["reply"] != answer
    assert kb.post(f"/v1/kb-editor/drafts/{d['id']}/try", json={"question": q}, headers=staff["al"]).status_code == 403


def test_an_faq_drafted_from_questions_is_prefilled_and_not_published(kb, staff):
    questions = ["How much does an outgoing domestic wire cost?", "how much does an outgoing domestic wire cost",
                 "what do you charge to send a wire transfer in the US?", "wire fee for my card 4111 1111 1111 1111"]
    r = kb.post("/v1/kb-editor/drafts/from-questions", json={"questions": questions, "gap": {"id": "g1", "name": "Wire fees", "conversation_ids": ["c1", "c2"]}},
                headers=staff["ed"])
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["kind"] == "faq" and d["status"] == "draft" and d["doc_id"].startswith("faq-")
    variants = [d["faq"]["title"], *d["faq"]["questions"]]
    assert len(variants) == 3 and not any("4111" in v for v in variants)
    assert d["notes"]["gap"] == {"id": "g1", "name": "Wire fees", "conversation_ids": ["c1", "c2"]} and d["notes"]["citations"]
    assert "wire" in d["faq"]["answer"].lower() and "$" in d["faq"]["answer"]
    assert d["faq"]["answer_doc"] in {c["doc_id"] for c in d["notes"]["citations"]}
    docs = {x["doc_id"] for x in kb.get("/v1/kb-editor/documents", headers=staff["ed"]).json()}
    assert d["doc_id"] not in docs

    nothing = kb.post("/v1/kb-editor/drafts/from-questions", json={"questions": ["zxqv plorf wibble grommet?"]},
                      headers=staff["ed"]).json()
    assert PLACEHOLDER in nothing["faq"]["answer"]
    r = kb.post(f"/v1/kb-editor/drafts/{nothing['id']}/submit", json={"revision": 1}, headers=staff["ed"])
    assert r.status_code == 422 and PLACEHOLDER in r.json()["detail"]


def test_an_admin_api_change_makes_an_open_draft_stale(kb, staff):
    doc_id = uid("prod-auto")
    text = f"---\nid: {doc_id}\ntitle: Automation {doc_id}\ncategory: cards\n---\n## Fee\nIt costs $5.\n"
    assert kb.put(f"/v1/admin/kb/documents/{doc_id}", content=text, headers={**ADMIN, "content-type": "text/markdown"}).status_code == 200
    d = submit(kb, staff["ed"], new_draft(kb, staff["ed"], doc_id))
    changed = text.replace("$5", "$6")
    assert kb.put(f"/v1/admin/kb/documents/{doc_id}", content=changed, headers={**ADMIN, "content-type": "text/markdown"}).status_code == 200
    assert publish(kb, staff["ann"], d, status=409)
    fresh = new_draft(kb, staff["ed"], doc_id)
    edited = kb.put(f"/v1/kb-editor/drafts/{fresh['id']}", json={"revision": 1, "content": changed.replace("$6", "$7")},
                    headers=staff["ed"]).json()
    assert publish(kb, staff["ann"], submit(kb, staff["ed"], edited))["version"] == 2
    versions = kb.get(f"/v1/kb-editor/documents/{doc_id}", headers=staff["ed"]).json()["versions"]
    assert [(v["version"], v["action"]) for v in versions] == [(2, "publish"), (1, "import")]
