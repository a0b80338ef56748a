"""Real components: MiniLM embeddings, FAISS index over the shipped KB, SmolLM2, SQLite."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before any model library is imported
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from assistant.api.app import create_app  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.services import build_services  # noqa: E402


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    from tests.banking_helpers import free_port

    unlimited = "100000/minute"
    return Settings(
        _env_file=None, storage={"data_dir": tmp_path_factory.mktemp("data")}, llm={"model": "smollm2-135m"},
        answering={"max_new_tokens": 48}, banking={"url": f"http://127.0.0.1:{free_port()}"},
        rate_limit={"ip": unlimited, "session": unlimited, "ws_connect": unlimited, "conversations": unlimited,
                    "tickets": unlimited},
    )


@pytest.fixture(scope="session")
def sandbox_bank(settings):
    """The sandbox core bank on the port settings.banking.url names, seeded, over a real socket."""
    from assistant.banking.setup import sandbox_config
    from sandbox_bank.app import create_app as bank_app
    from tests.banking_helpers import ServerThread

    with ServerThread(bank_app(sandbox_config(settings), reset=True), port=int(settings.banking.url.rsplit(":", 1)[1])) as s:
        yield s


@pytest.fixture(scope="session")
def services(settings, sandbox_bank):
    return build_services(settings)


@pytest.fixture(scope="session")
def client(settings, services):
    with TestClient(create_app(settings, services)) as c:
        yield c


def auth(reply: dict) -> dict:
    """Headers of the customer who started the conversation `reply` (a /v1/chat body or session frame)."""
    return {"authorization": f"Bearer {reply['session_token']}"}


KB_ADMIN_TOKEN = "kb-editor-admin-token-0123456789"


@pytest.fixture(scope="session")
def kb_services(tmp_path_factory, settings):
    """Services over a copy of the knowledge base: the editor tests publish into it, never into the checkout."""
    import shutil

    root = tmp_path_factory.mktemp("kbeditor")
    shutil.copytree(settings.retrieval.docs_dir, root / "docs")
    kb_settings = settings.changed(storage__data_dir=root / "data", retrieval__docs_dir=root / "docs",
                                   security__admin_token=KB_ADMIN_TOKEN, answering__max_new_tokens=16)
    return build_services(kb_settings)
