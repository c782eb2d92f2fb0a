import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually, uniqueId } from '../support/app.js';
import { freePort } from '../../testkit/ports.js';
import { RawCharger } from '../../simulator/raw-charger.js';

const root = path.resolve(import.meta.dirname, '../..');
const PASSWORD = 'correct-horse-battery';

/**
 * `concierge start` as a user runs it: its own Temporal dev server with SQLite under DATA_DIR,
 * PGlite under DATA_DIR, one port. Stopped with Ctrl-C, killed with -9, started again.
 */
describe('concierge start on embedded defaults', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let temporalPort: number;
  let running: { child: ChildProcess; output: () => string } | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'concierge-cli-'));
    const port = await freePort();
    temporalPort = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      INCIDENT_RESPOND_WITHIN: '8s',
      LOG_LEVEL: 'warn',
    };
    delete env.TEMPORAL_ADDRESS;
    delete env.DATABASE_URL;
    delete env.CONCIERGE_ADMIN_TOKEN;
  });

  afterAll(async () => {
    if (running) await stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start() {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/concierge.ts', 'start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    running = { child, output: () => output };
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`concierge exited early:\n${output}`);
      return (await fetch(`${url}/health`).catch(() => null))?.status === 200;
    }, 90_000, 'GET /health to answer 200');
    return running;
  }

  async function stop(signal: NodeJS.Signals): Promise<number | null> {
    const { child } = running!;
    running = undefined;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  it('starts, shows its URLs and a one-time admin token, and opens an incident from a charger fault', { timeout: 240_000 }, async () => {
    const first = await start();
    const banner = first.output();
    expect(banner).toContain(`API docs     http://localhost:${env.PORT}/docs`);
    expect(banner).toContain(`OCPP         ws://localhost:${env.PORT}/ocpp/<chargerId>`);
    expect(banner).toContain(`Temporal UI  http://127.0.0.1:${env.TEMPORAL_DEV_UI_PORT}`);
    const token = /Admin API token .*: (cgt_\S+)/.exec(banner)?.[1];
    expect(token).toBeDefined();
    const api = apiClient(url, token);

    // While it runs, a command that would open its embedded database refuses and says what to do.
    const cli = ['--import', 'tsx', 'bin/concierge.ts', 'uptime', '--agreement', 'greenmart-retail', '--charger', 'GM-LDS-01', '--connector', '1', '--from', '2026-05-01T00:00:00Z', '--to', '2026-06-01T00:00:00Z'];
    const refused = await promisify(execFile)(process.execPath, cli, { cwd: root, env }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining(`Concierge (pid ${first.child.pid}) is running on ${dataDir} with its embedded database`) });

    await runReadmeExamples(url, token!);

    const chargerId = uniqueId('CP');
    expect((await api.post('/api/chargers', { id: chargerId, password: PASSWORD })).status).toBe(201);
    const charger = await RawCharger.connect(url.replace('http', 'ws'), chargerId, PASSWORD);
    await charger.call('BootNotification', { chargePointVendor: 'ABB', chargePointModel: 'Terra AC' });
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'InternalError', status: 'Faulted' });
    const incident = await eventually(async () => (await api.get(`/api/incidents?chargerId=${chargerId}`)).body.incidents[0], 5_000, 'the incident');
    expect(incident).toMatchObject({ status: 'opened', sla: { responseBreached: false } });
    await charger.close();

    // Ctrl-C: everything stops cleanly, the Temporal dev server included.
    expect(await stop('SIGINT')).toBe(0);
    expect(await portOpen(temporalPort)).toBe(false);
    expect(existsSync(path.join(dataDir, 'temporal.sqlite'))).toBe(true);

    // Started again on the same DATA_DIR: no new token, the incident is there, its timer still runs.
    const second = await start();
    expect(second.output()).not.toContain('Admin API token');
    expect((await api.get(`/api/incidents/${incident.id}`)).body.status).toBe('opened');
    const breached = await eventually(async () => {
      const { body } = await api.get(`/api/incidents/${incident.id}`);
      return body.sla.responseBreached ? body : undefined;
    }, 20_000, 'the response breach after restart');
    expect(breached.steps.map((s: { step: string }) => s.step)).toEqual(['task-created', 'response-breached']);

    // kill -9 leaves the Temporal dev server orphaned; the next start replaces it and nothing is lost.
    const sameCharger = await RawCharger.connect(url.replace('http', 'ws'), chargerId, PASSWORD);
    await sameCharger.call('StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted' });
    await eventually(async () => (await api.get(`/api/incidents?chargerId=${chargerId}`)).body.incidents.length === 2, 5_000, 'second incident');
    await stop('SIGKILL');
    await start();
    const incidents = (await api.get(`/api/incidents?chargerId=${chargerId}`)).body.incidents;
    expect(incidents.map((i: { connectorId: number; status: string }) => [i.connectorId, i.status]).sort()).toEqual([
      [1, 'opened'],
      [2, 'opened'],
    ]);
    const charger2 = (await api.get(`/api/chargers/${chargerId}`)).body;
    expect(charger2.connected).toBe(false);
    const acknowledged = await api.post(`/api/incidents/${incidents[0].id}/acknowledge`, {});
    expect(acknowledged.status).toBe(200);
    expect(await stop('SIGTERM')).toBe(0);
  });

  // Service managers and containers stop a service by signalling its PID: here npm's, which runs
  // `npm start`, not the process group a Ctrl-C reaches.
  it.each<NodeJS.Signals>(['SIGTERM', 'SIGINT'])('`npm start` stops everything it started, Temporal dev server included, on %s to npm’s PID alone', { timeout: 120_000 }, async (signal) => {
    const npmEnv = Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('npm_')));
    const npm = spawn('npm', ['start'], { cwd: root, env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    await eventually(async () => {
      if (npm.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      return (await fetch(`${url}/health`).catch(() => null))?.status === 200;
    }, 90_000, 'GET /health to answer 200');
    const [concierge] = childPids(npm.pid!);
    const temporal = Number(readFileSync(path.join(dataDir, 'temporal.sqlite.pid'), 'utf8'));
    expect(readFileSync(`/proc/${concierge}/cmdline`, 'utf8')).toContain('bin/concierge.ts');
    expect(alive(temporal)).toBe(true);

    try {
      process.kill(npm.pid!, signal);
      await eventually(async () => !alive(concierge!) && !alive(temporal), 20_000, `Concierge (${concierge}) and its Temporal dev server (${temporal}) to exit`);
      await exited;
    } finally {
      for (const pid of [npm.pid!, concierge!, temporal]) if (alive(pid)) process.kill(pid, 'SIGKILL'); // so a failure leaves nothing running
    }
    expect(await portOpen(temporalPort)).toBe(false);
    expect((await fetch(`${url}/health`).catch(() => null))?.status).toBeUndefined();
  });
});

/**
 * The README's "Use the API" block, run as written with curl against a fresh start: the port and
 * token substituted, ALPINA-01 connected (with the README's password) once it is registered and
 * answering the Reset, `<id>` bound from the answer whose shown output holds it. Each command must
 * succeed (curl --fail-with-body), and each output the README shows (`# {…}` after a command, or
 * `# … text …` beside it) must match.
 */
async function runReadmeExamples(url: string, token: string): Promise<void> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = /## Use the API[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "## Use the API"');
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('curl is not installed: the README examples are run with it (apt install curl)');
  }
  const lines = block.replace(/\\\n\s*/g, '').split('\n');
  const bound = new Map<string, string>();
  let charger: RawCharger | undefined;
  let ran = 0;
  try {
    for (const [index, line] of lines.entries()) {
      if (!line.startsWith('curl ')) continue;
      const [command, aside] = line.split(/\s+# (?=…)/);
      let shell = command!.replaceAll('localhost:8080', new URL(url).host).replace(/^curl /, 'curl -sS --fail-with-body ');
      for (const [placeholder, value] of bound) shell = shell.replaceAll(placeholder, value);
      if (shell.includes('/commands/') && !charger) charger = await connectAsReadmeCharger(url);
      const output = await promisify(execFile)('bash', ['-c', shell], { env: { ...process.env, TOKEN: token } }).then(
        (done) => done.stdout,
        (error: { stdout?: string; stderr?: string }) => {
          throw new Error(`README example failed: ${command}\n${error.stderr ?? ''}${error.stdout ?? ''}`);
        },
      );
      ran++;
      if (aside) for (const fragment of aside.split('…').map((f) => f.trim()).filter(Boolean)) expect(output, command).toContain(fragment);
      const shown = /^# (\{.*\})$/.exec(lines[index + 1] ?? '')?.[1];
      if (shown) {
        const expected = JSON.parse(shown) as Record<string, unknown>;
        const actual = JSON.parse(output) as Record<string, unknown>;
        for (const [key, value] of Object.entries(expected)) if (typeof value === 'string' && /^<\w+>$/.test(value)) bound.set(value, String(actual[key]));
        expect(actual, command).toMatchObject(Object.fromEntries(Object.entries(expected).filter(([, value]) => !(typeof value === 'string' && /^<\w+>$/.test(value)))));
      }
    }
  } finally {
    await charger?.close();
  }
  expect(ran, 'curl commands run from the README').toBeGreaterThanOrEqual(5);
}

/** ALPINA-01 on the wire with the README's password, answering every command Accepted. */
async function connectAsReadmeCharger(url: string): Promise<RawCharger> {
  const charger = await RawCharger.connect(url.replace('http', 'ws'), 'ALPINA-01', 'a-16-to-40-char-secret');
  await charger.call('BootNotification', { chargePointVendor: 'Alfen', chargePointModel: 'Eve Single S-line' });
  void (async () => {
    for (;;) {
      const call = await charger.nextFrame(600_000).catch(() => null);
      if (!call) return;
      if (call[0] === 2) charger.answer(call, { status: 'Accepted' });
    }
  })();
  return charger;
}

/** The PIDs of a process's children. */
function childPids(pid: number): number[] {
  return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); // a zombie has exited
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
