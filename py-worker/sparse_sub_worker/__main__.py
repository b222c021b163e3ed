"""`python -m sparse_sub_worker serve --listen HOST:PORT`: runs a worker until SIGINT/SIGTERM.

Once listening it prints one line to stdout that launchers wait for:
    SPARSE_SUB_WORKER_READY {"address": "127.0.0.1:50051", "telemetry": "tcp://127.0.0.1:40123"}
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import ssl
import sys
import threading
from concurrent import futures


def _watch_parent(stopped: threading.Event) -> None:
    """Stops the worker when the process that started it dies (even by SIGKILL): a local
    worker must never outlive its controller and hold a GPU."""
    parent = os.getppid()
    while not stopped.wait(1.0):
        if os.getppid() != parent:
            stopped.set()


def serve(listen: str, telemetry_bind: str, exit_with_parent: bool = False, token: str | None = None,
          tls: tuple[bytes, bytes] | None = None, data_root: str | None = None, allow_hub: bool = True,
          stream_idle_seconds: float = 60.0) -> None:
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    from .gen.sparse_sub.v1 import worker_pb2_grpc
    from .security import DataRoot, TokenAuth
    from .server import WorkerService
    from .telemetry import NullPublisher, TelemetryPublisher

    telemetry = NullPublisher() if telemetry_bind == "off" else TelemetryPublisher(telemetry_bind)
    options = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]
    interceptors = [TokenAuth(token)] if token else []
    # Bounded: RPCs past 12 at once are refused with RESOURCE_EXHAUSTED instead of queueing behind
    # held threads, so health checks and GetWorkerInfo stay answerable.
    options += [("grpc.keepalive_time_ms", 60_000), ("grpc.keepalive_timeout_ms", 20_000), ("grpc.max_connection_idle_ms", 30 * 60_000)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=options, interceptors=interceptors,
                         maximum_concurrent_rpcs=12)
    worker_pb2_grpc.add_WorkerServicer_to_server(WorkerService(telemetry, DataRoot(data_root, allow_hub), stream_idle_seconds), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service in ("", "sparse_sub.v1.Worker"):
        health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    if tls:
        port = server.add_secure_port(listen, grpc.ssl_server_credentials([(tls[1], tls[0])]))
    else:
        port = server.add_insecure_port(listen)
    if port == 0:
        sys.exit(f"sparse-sub worker: cannot listen on {listen}")
    server.start()
    host = listen.rsplit(":", 1)[0]
    print("SPARSE_SUB_WORKER_READY " + json.dumps({"address": f"{host}:{port}", "telemetry": telemetry.endpoint}), flush=True)

    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    if exit_with_parent:
        threading.Thread(target=_watch_parent, args=(stopped,), daemon=True).start()
    stopped.wait()
    server.stop(grace=2).wait()
    telemetry.close()


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _host(address: str) -> str:
    return address.removeprefix("tcp://").rsplit(":", 1)[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sparse_sub_worker", description="sparse-sub worker")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the sparse_sub.v1 gRPC API")
    serve_parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (port 0 = any free port)")
    serve_parser.add_argument("--telemetry", default="tcp://127.0.0.1:*", help="ZeroMQ PUB bind address for telemetry; 'off': none (progress then goes only over the authenticated "
                              "gRPC stream; any local user can read a ZeroMQ socket)")
    serve_parser.add_argument("--log-level", default="INFO")
    serve_parser.add_argument("--stream-idle-timeout", type=float, default=60.0, metavar="SECONDS",
                              help="end an upload (PutFile) that sent nothing for this long, removing its partial file")
    serve_parser.add_argument("--exit-with-parent", action="store_true", help="stop when the launching process dies")
    serve_parser.add_argument("--token-file", help="file holding the bearer token every RPC must carry (or SPARSE_SUB_WORKER_TOKEN)")
    serve_parser.add_argument("--tls-cert", help="PEM certificate chain: serve TLS (with --tls-key)")
    serve_parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    serve_parser.add_argument("--data-root", help="read and write files only under this directory")
    serve_parser.add_argument("--no-hub", action="store_true",
                              help="refuse hub ids for models and datasets (no download into the Hugging Face cache)")
    serve_parser.add_argument("--insecure", action="store_true",
                              help="allow listening beyond loopback without a token (private networks and containers only)")
    args = parser.parse_args(argv)
    if args.command != "serve":
        return
    token = os.environ.get("SPARSE_SUB_WORKER_TOKEN") or None
    if args.token_file:
        try:
            token = open(args.token_file, encoding="utf-8").read().strip()
        except OSError as error:
            parser.error(f"--token-file {args.token_file}: {error.strerror}")
    if token is not None and len(token) < 16:
        parser.error("the worker token must be at least 16 characters (e.g. `openssl rand -hex 32`)")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("give --tls-cert and --tls-key together")
    tls = None
    if args.tls_cert:
        try:
            tls = (open(args.tls_cert, "rb").read(), open(args.tls_key, "rb").read())
        except OSError as error:
            parser.error(f"{error.filename}: {error.strerror}")
        try:  # grpc only says "Failed to bind" for a key that does not match its certificate
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(args.tls_cert, args.tls_key)
        except ssl.SSLError as error:
            parser.error(f"--tls-cert {args.tls_cert} / --tls-key {args.tls_key}: not a matching PEM certificate and key ({error.reason})")
    if args.data_root and not os.path.isdir(args.data_root):
        parser.error(f"--data-root {args.data_root}: not a directory")
    if not args.insecure:
        if _host(args.listen) not in LOOPBACK_HOSTS and token is None:
            parser.error(f"--listen {args.listen}: beyond loopback the worker needs a token (--token-file) so that nobody else on the "
                         "network can read and write files as you; or pass --insecure on a private network")
        if args.telemetry != "off" and _host(args.telemetry) not in LOOPBACK_HOSTS:
            parser.error(f"--telemetry {args.telemetry}: telemetry is not authenticated; keep it on loopback (remote controllers "
                         "get progress over the authenticated gRPC stream), or pass --insecure")
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if token is not None and tls is None and _host(args.listen) not in LOOPBACK_HOSTS:
        logging.warning("serving %s with a token but without TLS: the token and every file cross the network in clear text "
                        "(add --tls-cert/--tls-key, or reach the worker through an SSH tunnel)", args.listen)
    if args.data_root:
        from .atomic import sweep_partials

        removed = sweep_partials(args.data_root)
        if removed:
            logging.info("removed %d stale partial file(s) under %s", removed, args.data_root)
    serve(args.listen, args.telemetry, args.exit_with_parent, token, tls, args.data_root, not args.no_hub, args.stream_idle_timeout)


if __name__ == "__main__":
    main()
