# `make bench-worker`'s "workerd alone": the built worker (worker/build/, `make worker-build`) in
# workerd itself, without Miniflare's entry worker, asset routing or simulated R2/Queues: the
# upper bound for `make serve`. No log store is bound, so prediction logging is off (as the
# worker does with nothing bound). The socket's address is set on the command line:
#   workerd serve bench/workerd_alone.capnp --socket-addr http=127.0.0.1:PORT
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "creditscore", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "creditscore")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "../worker/build/index.js"),
    (name = "index_bg.wasm", wasm = embed "../worker/build/index_bg.wasm"),
  ],
  # As wrangler.toml.
  compatibilityDate = "2026-04-20",
  bindings = [(name = "LOG_PREDICTIONS", text = "0")],
);
