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


def serve(listen: str, telemetry_bind: str, exit_with_parent: bool = False) -> None:
    import grpc

    from .gen.sparse_sub.v1 import worker_pb2_grpc
    from .server import WorkerService
    from .telemetry import TelemetryPublisher

    telemetry = TelemetryPublisher(telemetry_bind)
    options = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=options)
    worker_pb2_grpc.add_WorkerServicer_to_server(WorkerService(telemetry), server)
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
    serve_parser.add_argument("--telemetry", default="tcp://127.0.0.1:*", help="ZeroMQ PUB bind address for telemetry")
    serve_parser.add_argument("--log-level", default="INFO")
    serve_parser.add_argument("--exit-with-parent", action="store_true", help="stop when the launching process dies")
    serve_parser.add_argument("--insecure", action="store_true",
                              help="allow listening beyond loopback without authentication (private networks and containers only)")
    args = parser.parse_args(argv)
    if args.command == "serve" and not args.insecure:
        for flag, address in (("--listen", args.listen), ("--telemetry", args.telemetry)):
            if _host(address) not in LOOPBACK_HOSTS:
                parser.error(f"{flag} {address}: the worker has no authentication yet and would let anyone on the network read and "
                             "write files as you; listen on 127.0.0.1 and tunnel over SSH, or pass --insecure on a private network")
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        serve(args.listen, args.telemetry, args.exit_with_parent)


if __name__ == "__main__":
    main()
