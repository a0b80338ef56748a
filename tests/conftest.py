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

    return Settings(
        data_dir=tmp_path_factory.mktemp("data"), llm_model="smollm2-135m", llm_max_new_tokens=48,
        rate_limit_ip="100000/minute", rate_limit_session="100000/minute", rate_limit_ws_connect="100000/minute",
        rate_limit_conversations="100000/minute", rate_limit_tickets="100000/minute", _env_file=None,
        banking_url=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="session")
def sandbox_bank(settings):
    """The sandbox core bank on the port settings.banking_url names, seeded, over a real socket."""
    from assistant.banking.setup import sandbox_config
    from sandbox_bank.app import create_app as bank_app
    from tests.banking_helpers import ServerThread

    with ServerThread(bank_app(sandbox_config(settings), reset=True), port=int(settings.banking_url.rsplit(":", 1)[1])) as s:
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
    shutil.copytree(settings.kb_docs_dir, root / "docs")
    kb_settings = settings.model_copy(update={"data_dir": root / "data", "kb_docs_dir": root / "docs",
                                              "admin_token": KB_ADMIN_TOKEN, "llm_max_new_tokens": 16})
    return build_services(kb_settings)
