# sparse-sub worker (and controller) image.
#   docker build -t sparse-sub .
#   docker run --rm -p 127.0.0.1:50051:50051 -p 127.0.0.1:50052:50052 sparse-sub
# The worker has no authentication yet: publish its ports on loopback only and reach them over
# SSH (README: "Running a worker on a GPU box").
# GPU boxes: build FROM an image that already has CUDA torch for Python >= 3.10 and Node >= 20,
# with --build-arg SPARSE_SUB_SYSTEM_TORCH=1 so the worker reuses that torch.
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential \
 && rm -rf /var/lib/apt/lists/*

ARG SPARSE_SUB_SYSTEM_TORCH=0
ENV SPARSE_SUB_SYSTEM_TORCH=${SPARSE_SUB_SYSTEM_TORCH} SPARSE_SUB_PYTHON=python3

WORKDIR /opt/sparse-sub
COPY . .
RUN npm ci --no-audit --no-fund

EXPOSE 50051 50052
# Inside the container the worker must listen on all interfaces for -p to reach it.
# (--insecure: the container's own interfaces; publish the ports on the host's loopback only)
CMD ["npx", "sparse-sub", "worker", "serve", "--listen", "0.0.0.0:50051", "--telemetry", "tcp://0.0.0.0:50052", "--insecure"]
