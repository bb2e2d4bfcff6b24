// Maintenance state (make restore): stands in for the gateway on its port while
// the state dir is being replaced, so the platform's health checks stay
// satisfied (nothing restarts or replaces the machine) and nothing writes the state.
// Usage: node maintenance.mjs <port> <flag file>; exits 0 once the flag is gone.
//
// /healthz, /health and /startupz answer 200 {"ok":true,"status":"maintenance"}
// (platform probes look at the status code; healthcheck.mjs accepts it for
// liveness only); /readyz and /ready answer 503 (not ready for traffic); every
// other path 503 with one line. The entrypoint starts the gateway again when
// this exits.
import fs from "node:fs";
import http from "node:http";

const [port = "18789", flag] = process.argv.slice(2);
if (!flag) {
  console.error("maintenance: usage: maintenance.mjs <port> <flag file>");
  process.exit(2);
}

const body = JSON.stringify({ ok: true, status: "maintenance", ready: false });
const server = http.createServer((req, res) => {
  const path = (req.url || "/").split("?")[0];
  if (["/healthz", "/health", "/startupz"].includes(path)) {
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  } else if (["/readyz", "/ready"].includes(path)) {
    res.writeHead(503, { "content-type": "application/json" }).end(body);
  } else {
    res.writeHead(503, { "content-type": "text/plain", "retry-after": "30" })
      .end("maintenance: the gateway's state is being restored (make restore)\n");
  }
});

function listen(attempt = 0) {
  server.once("error", (err) => {
    // the gateway's helper processes may hold the port for a moment after it stops
    if (err.code === "EADDRINUSE" && attempt < 60) setTimeout(() => listen(attempt + 1), 1000);
    else {
      console.error(`maintenance: cannot listen on ${port}: ${err.message}`);
      process.exit(1);
    }
  });
  server.listen(Number(port), "0.0.0.0", () => console.error(`maintenance: answering on ${port} until ${flag} is removed`));
}
listen();

const timer = setInterval(() => {
  if (!fs.existsSync(flag)) {
    clearInterval(timer);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  }
}, 500);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
