"""Admin API: documents added, replaced and deleted at run time, index swapped in place."""

import shutil

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.config import Settings
from assistant.services import build_services
from tests.unit.test_formats import HTML, make_pdf

TOKEN = "test-admin-token-0123456789"
DOC = """---
id: prod-gold-card
title: Larkspur Gold Card
category: cards
effective_date: 2026-01-01
source: test
---
## Annual fee
The Larkspur Gold Card annual fee is ${fee}. Gold Card members get airport lounge access.
"""


@pytest.fixture(scope="module")
def admin_client(tmp_path_factory, services):
    root = tmp_path_factory.mktemp("kbadmin")
    docs = root / "docs"
    shutil.copytree(services.settings.retrieval.docs_dir / "products", docs / "products")
    settings = Settings(
        _env_file=None, storage={"data_dir": root / "data"}, retrieval={"docs_dir": docs},
        llm={"model": "smollm2-135m"}, answering={"max_new_tokens": 16}, security={"admin_token": TOKEN},
    )
    with TestClient(create_app(settings, build_services(settings))) as c:
        yield c


AUTH = {"authorization": f"Bearer {TOKEN}"}


def search_ids(client, q):
    return [r["doc_id"] for r in client.get("/v1/kb/search", params={"q": q, "k": 3}).json()["results"]]


def test_add_replace_delete_without_restart(admin_client):
    c = admin_client
    before = c.get("/healthz").json()["index_version"]
    r = c.put("/v1/admin/kb/documents/prod-gold-card", content=DOC.format(fee=250), headers={**AUTH, "content-type": "text/markdown"})
    assert r.status_code == 200, r.text
    assert r.json()["report"]["added"] == ["prod-gold-card"] and r.json()["index_version"] != before
    assert search_ids(c, "gold card airport lounge annual fee")[0] == "prod-gold-card"

    r = c.put("/v1/admin/kb/documents/prod-gold-card", content=DOC.format(fee=300), headers={**AUTH, "content-type": "text/markdown"})
    assert r.json()["report"]["updated"] == ["prod-gold-card"]
    top = c.get("/v1/kb/search", params={"q": "gold card annual fee", "k": 1}).json()["results"][0]
    assert "$300" in top["snippet"]

    r = c.put("/v1/admin/kb/documents/holiday-notice", content=make_pdf("Branches close at 3 pm on New Year's Eve."),
              headers={**AUTH, "content-type": "application/pdf"})
    assert r.json()["doc_id"] == "pdf-holiday-notice"
    assert c.delete("/v1/admin/kb/documents/prod-gold-card", headers=AUTH).json()["report"]["removed"] == ["prod-gold-card"]
    assert "prod-gold-card" not in search_ids(c, "gold card airport lounge annual fee")
    assert any(d["doc_id"] == "pdf-holiday-notice" for d in c.get("/v1/admin/kb/documents", headers=AUTH).json())


def test_admin_rejects_bad_input(admin_client):
    c = admin_client
    md = {"content-type": "text/markdown"}
    assert c.put("/v1/admin/kb/documents/x1", content=DOC, headers=md).status_code == 401
    assert c.put("/v1/admin/kb/documents/x1", content=DOC, headers={**md, "authorization": "Bearer wrong"}).status_code == 401
    bad = c.put("/v1/admin/kb/documents/broken", content=b"%PDF-1.4 junk", headers={**AUTH, "content-type": "application/pdf"})
    assert bad.status_code == 422 and "PDF" in bad.json()["detail"]
    assert c.put("/v1/admin/kb/documents/prod-other", content=DOC.format(fee=1), headers={**AUTH, **md}).status_code == 422
    assert c.put("/v1/admin/kb/documents/x1", content=b"{}", headers={**AUTH, "content-type": "application/json"}).status_code == 415
    assert c.put("/v1/admin/kb/documents/Bad_Id", content=DOC, headers={**AUTH, **md}).status_code == 422
    html = HTML.replace('content="prod-sdb-html"', 'content="../Fees Checking"')
    r = c.put("/v1/admin/kb/documents/sdb-page", content=html, headers={**AUTH, "content-type": "text/html"})
    assert r.status_code == 422 and "document id" in r.json()["detail"]
    assert c.delete("/v1/admin/kb/documents/nope", headers=AUTH).status_code == 404


def test_admin_off_without_token(client):
    assert client.get("/v1/admin/kb/documents").status_code == 403
