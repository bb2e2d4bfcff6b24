// The in-container half of `make restore` (ops/backup.py runs each step through
// the platform's exec, as the gateway's user). Steps:
//   enter    FLAG            create the maintenance flag, stop the gateway, wait until it is gone
//   stage    FLAG WORK       `openclaw backup restore WORK/archive.tar.gz --target WORK/stage`
//   activate FLAG WORK TS    swap the staged state (and workspace) in; the replaced
//                            ones are kept as <dir>.before-restore-TS (inside the
//                            dir when it is a volume's mount point) until the next restore
//   leave    FLAG [WORK]     remove the flag (the entrypoint starts the gateway) and WORK
// Each prints one JSON line on stdout; a refusal exits 1 with one line on stderr.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [step, flag, work, stamp] = process.argv.slice(2);
const STATE_DIR = process.env.OPENCLAW_STATE_DIR;
const WORKSPACE_DIR = process.env.OPENCLAW_WORKSPACE_DIR || (STATE_DIR && path.join(STATE_DIR, "workspace"));
const PID_FILE = "/tmp/openclaw-deploy-gateway.pid";
// Marks a directory that `openclaw backup create` leaves out (docs/cli/backup.md,
// "Private update captures"): kept copies and restore work never enter a later backup.
const PRIVATE_MARKER = [".openclaw-private-update-capture", "openclaw-private-update-capture-v1\n"];

function fail(message) {
  console.error(`restore: ${message}`);
  process.exit(1);
}
function done(result) {
  console.log(JSON.stringify(result));
  process.exit(0);
}
function markPrivate(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, PRIVATE_MARKER[0]), PRIVATE_MARKER[1], { mode: 0o600 });
}
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

// Every gateway process of this container (the launcher and its re-spawned child).
function gatewayPids() {
  const pids = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmd = "";
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const args = cmd.split("\0");
    // node itself (not the entrypoint's sh or tini, whose argv also names openclaw.mjs gateway)
    const launcher = path.basename(args[0]) === "node" && args.some((a) => a.endsWith("openclaw.mjs")) && args.includes("gateway");
    if (args[0].startsWith("openclaw-gateway") || launcher) {
      pids.push(Number(pid));
    }
  }
  return pids.filter((pid) => pid !== process.pid);
}

// Mount points from /proc/self/mountinfo (field 5, octal escapes): two Docker volumes
// share one device, so comparing st_dev with the parent's would miss them.
const MOUNTS = new Set(
  fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean)
    .map((line) => line.split(" ")[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)))),
);
const isMountPoint = (dir) => MOUNTS.has(path.resolve(dir));

function enter() {
  fs.writeFileSync(flag, `make restore ${new Date().toISOString()}\n`, { mode: 0o600 });
  let pid = 0;
  try {
    pid = Number(fs.readFileSync(PID_FILE, "utf8").trim());
  } catch {
    // no pid file: the gateway was not started by this entrypoint (or already stopped)
  }
  if (pid) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 120_000;
  while (gatewayPids().length) {
    if (Date.now() > deadline) fail(`the gateway did not stop within 120 s (pids ${gatewayPids().join(" ")}); flag ${flag} left in place`);
    sleep(500);
  }
  done({ step: "enter", flag, stopped: Boolean(pid) });
}

function stage() {
  if (!fs.existsSync(flag) || gatewayPids().length) fail("refusing to stage: the gateway is running (no maintenance state)");
  const target = path.join(work, "stage");
  // `backup restore` refuses a target inside the live state dir; the gateway is stopped,
  // so the command is told about an empty scratch state dir instead (it only stages files).
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-restore-cli-"));
  const proc = spawnSync("openclaw", ["backup", "restore", path.join(work, "archive.tar.gz"), "--target", target, "--json"], {
    env: { ...process.env, OPENCLAW_STATE_DIR: scratch, OPENCLAW_CONFIG_PATH: path.join(scratch, "openclaw.json") },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  fs.rmSync(scratch, { recursive: true, force: true });
  let result = {};
  try {
    result = JSON.parse(proc.stdout.slice(proc.stdout.indexOf("{")));
  } catch {
    // reported below
  }
  if (proc.status !== 0 || !result.ok) {
    const why = (proc.stderr || proc.stdout || "").trim().split("\n").filter(Boolean).pop() || `exit ${proc.status}`;
    fail(`openclaw backup restore refused the archive: ${why}`);
  }
  done({ step: "stage", target, warnings: result.warnings || [], runtimeVersion: result.runtimeVersion });
}

// Moves one path, on one filesystem with rename() (atomic), across two by copy + remove.
function move(from, to, journal) {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if (err.code !== "EXDEV") throw err;
    fs.cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    fs.rmSync(from, { recursive: true, force: true });
  }
  journal.push([from, to]);
}

// (and a safe upgrade's watch flag, ops/safe_upgrade.py: it stays where it is)
const SKIP = (name) => name.startsWith(".before-restore-") || name.startsWith(".openclaw-restore-") || name === path.basename(flag)
  || name === ".openclaw-upgrade";

// Does the running release leave a directory holding the marker out of `openclaw backup
// create`? Releases before the marker (2026.8.2 among them) archive a kept copy as live state,
// and the newer release's databases in it (a failed upgrade's, kept by its rollback) make their
// backup fail. Told by the marker text in the installed release's code.
function releaseHonoursMarker() {
  const where = spawnSync("sh", ["-c", "command -v openclaw"], { encoding: "utf8" }).stdout.trim();
  const roots = new Set(["/app"]); // the image's install dir, and wherever `openclaw` leads
  try {
    roots.add(path.dirname(fs.realpathSync(where)));
  } catch {
    // not on PATH
  }
  const dists = [...roots].map((root) => path.join(root, "dist")).filter((dir) => fs.existsSync(dir));
  return dists.some((dir) => spawnSync("grep", ["-rqF", PRIVATE_MARKER[1].trim(), dir]).status === 0);
}

// A kept copy inside a backed-up tree, for a release without the marker: its entries packed
// into one uncompressed tar beside the marker (no database or state file a backup reads as
// live state; `tar -xf` gives the copy back). The packed copy is in that release's backups
// until the next restore removes it.
function pack(keep) {
  const names = fs.readdirSync(keep).filter((name) => name !== PRIVATE_MARKER[0]);
  if (!names.length) return "";
  const tar = path.join(keep, "before-restore.tar");
  const proc = spawnSync("tar", ["-cf", tar, "--remove-files", "-C", keep, "--", ...names], { encoding: "utf8" });
  if (proc.status !== 0) return `packing ${keep} failed (${(proc.stderr || "").trim().split("\n").pop()}): left as a tree`;
  fs.chmodSync(tar, 0o600);
  return "";
}

// Put `src` (a staged tree) at `dst`, keeping what was there.
function swap(dst, src, journal, kept) {
  if (!isMountPoint(dst) && fs.existsSync(dst)) {
    const keep = `${dst}.before-restore-${stamp}`;
    move(dst, keep, journal);
    markPrivate(keep);
    kept.push(keep);
    move(src, dst, journal);
    return;
  }
  // a volume's mount point cannot be renamed: swap its entries instead
  fs.mkdirSync(dst, { recursive: true });
  const keep = path.join(dst, `.before-restore-${stamp}`);
  markPrivate(keep);
  kept.push(keep);
  kept.inside.push(keep);
  const nested = new Set();
  for (const name of fs.readdirSync(dst)) {
    if (SKIP(name)) continue;
    const entry = path.join(dst, name);
    if (isMountPoint(entry)) nested.add(name); // e.g. Compose's workspace volume inside the state volume
    else move(entry, path.join(keep, name), journal);
  }
  for (const name of fs.readdirSync(src)) {
    if (SKIP(name)) continue;
    if (nested.has(name)) swap(path.join(dst, name), path.join(src, name), journal, kept);
    else move(path.join(src, name), path.join(dst, name), journal);
  }
}

function activate() {
  if (!fs.existsSync(flag)) fail("refusing to activate: no maintenance state (run make restore, not this step alone)");
  if (gatewayPids().length) fail(`refusing to activate: a gateway is running (pids ${gatewayPids().join(" ")})`);
  const stageDir = path.join(work, "stage");
  const roots = fs.readdirSync(stageDir).filter((d) => !d.startsWith("."));
  if (roots.length !== 1) fail(`expected one archive root in ${stageDir}, found ${roots.length}`);
  const root = path.join(stageDir, roots[0]);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "manifest.json"), "utf8"));
  const payload = (p) => path.join(root, "payload", "posix", p);
  const srcState = payload(manifest.paths.stateDir);
  if (!fs.existsSync(srcState)) fail(`the archive has no state dir (${manifest.paths.stateDir})`);
  const oldWs = (manifest.paths.workspaceDirs || [])[0];
  const srcWsThen = oldWs ? payload(oldWs) : "";
  // Lay the staged tree out as THIS deploy has it (the archive may come from another platform).
  const wsInside = path.relative(STATE_DIR, WORKSPACE_DIR);
  const nestedNow = !wsInside.startsWith("..") && !path.isAbsolute(wsInside);
  let srcWs = "";
  if (srcWsThen && fs.existsSync(srcWsThen)) {
    const want = nestedNow ? path.join(srcState, wsInside) : path.join(work, "stage-workspace");
    if (path.resolve(want) !== path.resolve(srcWsThen)) {
      fs.rmSync(want, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(want), { recursive: true });
      fs.renameSync(srcWsThen, want);
    }
    srcWs = nestedNow ? "" : want;
  }
  // the copies kept by the previous restore go now
  for (const dir of [STATE_DIR, WORKSPACE_DIR]) {
    for (const base of [path.dirname(dir), dir]) {
      if (!fs.existsSync(base)) continue;
      for (const name of fs.readdirSync(base)) {
        const full = path.join(base, name);
        if ((full.startsWith(`${dir}.before-restore-`) || (base === dir && name.startsWith(".before-restore-"))) && !full.endsWith(stamp)) {
          fs.rmSync(full, { recursive: true, force: true });
        }
      }
    }
  }
  const journal = [];
  const kept = [];
  kept.inside = []; // the kept copies inside the state or workspace dir (a volume's mount point)
  try {
    swap(STATE_DIR, srcState, journal, kept);
    if (srcWs) swap(WORKSPACE_DIR, srcWs, journal, kept);
  } catch (err) {
    // put back what was moved, newest first; the live state is then as it was
    for (const [from, to] of journal.reverse()) {
      try {
        fs.renameSync(to, from);
      } catch {
        // reported below
      }
    }
    fail(`swap failed and was rolled back (${err.message}); the state is unchanged`);
  }
  const warnings = [];
  const packed = kept.inside.length && !releaseHonoursMarker();
  if (packed) for (const keep of kept.inside) warnings.push(pack(keep));
  done({ step: "activate", state: STATE_DIR, workspace: WORKSPACE_DIR, kept: [...kept], packed: Boolean(packed),
    warnings: warnings.filter(Boolean), archiveCreated: manifest.createdAt, from: manifest.paths.stateDir });
}

function leave() {
  fs.rmSync(flag, { force: true });
  if (work) fs.rmSync(work, { recursive: true, force: true });
  done({ step: "leave" });
}

if (!STATE_DIR) fail("OPENCLAW_STATE_DIR is not set");
if (!flag) fail("usage: restore.mjs enter|stage|activate|leave FLAG [WORK] [STAMP]");
const steps = { enter, stage, activate, leave };
if (!steps[step]) fail(`unknown step ${step}`);
steps[step]();
