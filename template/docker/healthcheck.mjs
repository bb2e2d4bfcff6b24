// Container health check: GET http://127.0.0.1:<port><path> and assert the JSON body.
// Usage: node healthcheck.mjs <port> [/healthz|/startupz|/readyz]
// Exit 0 healthy, 1 not. A bare status-code check would pass on any path:
// the gateway answers every unknown path with the Control UI's HTML (200).
const [port = "18789", path = "/healthz"] = process.argv.slice(2);

// Liveness also accepts the maintenance state (docker/maintenance.mjs, make restore):
// the container is alive on purpose without the gateway; /startupz does not.
const live = (b) => b.ok === true && (b.status === "live" || b.status === "maintenance");
const expectations = {
  "/healthz": live,
  "/health": live,
  "/startupz": (b) => b.ok === true && b.status === "started",
  "/readyz": (b) => b.ready === true,
  "/ready": (b) => b.ready === true,
};

const check = expectations[path];
if (!check) {
  console.error(`healthcheck: ${path} is not a JSON health endpoint`);
  process.exit(1);
}

try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(4000),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    console.error(`healthcheck: ${path} answered ${res.status} without JSON (wrong path or port?)`);
    process.exit(1);
  }
  if (!check(body)) {
    console.error(`healthcheck: ${path} answered ${JSON.stringify(body).slice(0, 200)}`);
    process.exit(1);
  }
  console.log(`healthcheck: ${path} ok`);
} catch (err) {
  console.error(`healthcheck: ${path} on port ${port} failed: ${err.message}`);
  process.exit(1);
}
