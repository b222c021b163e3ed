// `sparse-sub worker serve`: the Python worker's gRPC server, started through the one launcher.
import { spawnWorkerServe } from "../worker/launch.js";
import { EXIT, type CommandRegistration } from "./exit.js";

export const workerCommandLine: CommandRegistration = (parser, setExit) =>
  parser.command("worker", "worker commands", (y) =>
    y
      .command(
        "serve",
        "serve the worker gRPC API (for local runs and GPU boxes)",
        (s) =>
          s
            .option("listen", { type: "string", default: "127.0.0.1:50051", describe: "HOST:PORT to listen on" })
            .option("telemetry", { type: "string", default: "tcp://127.0.0.1:*", describe: "ZeroMQ PUB bind address" })
            .option("token-file", { type: "string", describe: "file with the bearer token every call must carry (needed beyond loopback)" })
            .option("tls-cert", { type: "string", describe: "PEM certificate chain: serve TLS" })
            .option("tls-key", { type: "string", describe: "PEM private key of --tls-cert" })
            .option("data-root", { type: "string", describe: "read and write files only under this directory" })
            .option("hub", { type: "boolean", default: true, describe: "accept hub ids for models and datasets (--no-hub refuses them: nothing downloads)" })
            .option("insecure", { type: "boolean", default: false, describe: "allow non-loopback addresses without a token (private networks only)" }),
        async (args) => setExit(await workerServeCommand(args as unknown as ServeArgs)),
      )
      .demandCommand(1),
  );

interface ServeArgs {
  listen: string;
  telemetry: string;
  insecure: boolean;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  dataRoot?: string;
  hub: boolean;
}

async function workerServeCommand(args: ServeArgs): Promise<number> {
  const optional = (flag: string, value?: string) => (value ? [flag, value] : []);
  const serveArgs = [
    "--listen", args.listen, "--telemetry", args.telemetry, ...(args.insecure ? ["--insecure"] : []),
    ...optional("--token-file", args.tokenFile), ...optional("--tls-cert", args.tlsCert), ...optional("--tls-key", args.tlsKey),
    ...optional("--data-root", args.dataRoot), ...(args.hub ? [] : ["--no-hub"]),
  ];
  const child = spawnWorkerServe(serveArgs, { stdio: "inherit", reject: false });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on("SIGINT", forward("SIGINT"));
  process.on("SIGTERM", forward("SIGTERM"));
  const result = await child;
  return result.exitCode ?? EXIT.failed;
}
