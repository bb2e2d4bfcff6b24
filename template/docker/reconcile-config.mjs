// Bring the deploy-owned keys of a live openclaw.json in line with the seed.
// Usage: node reconcile-config.mjs <seed.json> <live openclaw.json>
//
// The entrypoint seeds the config only on first boot and never overwrites it,
// so an answer changed later (privacy private -> public: a proxy in front, a
// public origin) would never reach the volume, and every request through the
// new proxy would get 403. Only what the deploy's privacy decides is touched:
//   gateway.trustedProxies            set to the seed's list (removed if the seed has none)
//   gateway.controlUi.allowedOrigins  the seed's origins added to the live list
// Everything else (tokens, channels, edits made with `openclaw config set`) stays.
import { readFileSync, writeFileSync, renameSync, statSync } from "node:fs";

const [seedPath, livePath] = process.argv.slice(2);
const seed = JSON.parse(readFileSync(seedPath, "utf8"));
const live = JSON.parse(readFileSync(livePath, "utf8"));
const changes = [];

const seedGateway = seed.gateway ?? {};
live.gateway ??= {};
const want = seedGateway.trustedProxies;
const have = live.gateway.trustedProxies;
if (JSON.stringify(want ?? null) !== JSON.stringify(have ?? null)) {
  if (want === undefined) delete live.gateway.trustedProxies;
  else live.gateway.trustedProxies = want;
  changes.push(`gateway.trustedProxies -> ${JSON.stringify(want ?? null)}`);
}
const origins = seedGateway.controlUi?.allowedOrigins ?? [];
const current = live.gateway.controlUi?.allowedOrigins ?? [];
const missing = origins.filter((o) => !current.includes(o));
if (missing.length) {
  live.gateway.controlUi ??= {};
  live.gateway.controlUi.allowedOrigins = [...current, ...missing];
  changes.push(`gateway.controlUi.allowedOrigins + ${JSON.stringify(missing)}`);
}

if (changes.length) {
  const tmp = `${livePath}.reconcile.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(live, null, 2) + "\n", { mode: statSync(livePath).mode & 0o777 });
  renameSync(tmp, livePath);
  console.error(`openclaw-deploy: ${livePath}: ${changes.join("; ")} (from the deploy's seed)`);
}
