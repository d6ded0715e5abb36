/**
 * The local stack's supervisor: Debian's `supervisor` package (supervisord), one per data folder,
 * so a service that dies comes back without a person. Flywheel talks to it over its unix socket
 * (XML-RPC, the same interface `supervisorctl` uses); configuration text comes from
 * supervisor-conf.ts. Without supervisord on the machine the stack runs its services detached,
 * as before (processes.ts), and says so once.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { dataPaths, type FlywheelConfig } from '../../config/index';
import { StackError } from './errors';
import { waitUntil } from './health';
import { renderEnvFile, renderProgram, renderSupervisordConf, type ProgramSpec, type SupervisordPaths } from './supervisor-conf';

const execFileP = promisify(execFile);

export interface SupervisorLayout extends SupervisordPaths {
  conf: string;
  /** Per-program `.conf` and `.env` files. */
  programDir: string;
}

export function supervisorLayout(config: FlywheelConfig): SupervisorLayout {
  const { run, logs } = dataPaths(config);
  let socket = path.join(run, 'supervisor.sock');
  // sun_path holds 108 bytes: a deep data folder gets its socket in /tmp instead (still 0700).
  if (Buffer.byteLength(socket) >= 100) {
    socket = path.join('/tmp', `flywheel-supervisor-${createHash('sha256').update(config.dataDir).digest('hex').slice(0, 12)}.sock`);
  }
  const programDir = path.join(run, 'supervisor');
  return {
    conf: path.join(run, 'supervisord.conf'),
    programDir,
    socket,
    pidFile: path.join(run, 'supervisord.pid'),
    logFile: path.join(logs, 'supervisord.log'),
    childLogDir: logs,
    include: path.join(programDir, '*.conf'),
    identifier: `flywheel-${createHash('sha256').update(config.dataDir).digest('hex').slice(0, 8)}`,
  };
}

let supervisordBin: string | null | undefined;

/** The supervisord executable, or undefined when the package is not installed (or FLYWHEEL_SUPERVISOR=off). */
export function findSupervisord(config: FlywheelConfig): string | undefined {
  if (config.supervisor === 'off') return undefined;
  if (supervisordBin === undefined) {
    supervisordBin = null;
    for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin']) {
      const file = dir && path.join(dir, 'supervisord');
      if (file && fs.existsSync(file)) {
        supervisordBin = file;
        break;
      }
    }
  }
  return supervisordBin ?? undefined;
}

/** The one line `flywheel up` prints when it runs services without supervisord. */
export function noSupervisorWarning(config: FlywheelConfig): string {
  const why = config.supervisor === 'off' ? 'FLYWHEEL_SUPERVISOR=off' : 'supervisord not found (Debian package `supervisor`; scripts/setup.sh installs it)';
  return `warning: ${why}: services run detached and a part that dies stays down until the next \`flywheel up\``;
}

// --- XML-RPC over the unix socket ------------------------------------------------------------

type XmlValue = string | number | boolean | XmlValue[] | { [k: string]: XmlValue };

export class SupervisorFault extends Error {
  constructor(readonly code: number, readonly faultString: string) {
    super(`supervisord: ${faultString} (fault ${code})`);
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : e === 'amp' ? '&'
      : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );
}

function encodeValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number') return `<value><int>${v}</int></value>`;
  return `<value><string>${escapeXml(v)}</string></value>`;
}

/** A small parser for the XML-RPC responses supervisord writes (values, arrays, structs, faults). */
export function parseXmlRpcResponse(xml: string): XmlValue {
  const tokens = xml.match(/<[^>]+>|[^<]+/g) ?? [];
  let i = 0;
  const skipText = () => {
    while (i < tokens.length && !tokens[i]!.startsWith('<')) i++;
  };
  const expect = (tag: string) => {
    skipText();
    if (tokens[i] !== tag) throw new Error(`XML-RPC: expected ${tag}, got ${tokens[i]}`);
    i++;
  };
  const text = (close: string): string => {
    let s = '';
    while (i < tokens.length && tokens[i] !== close) s += tokens[i++]!;
    i++;
    return unescapeXml(s);
  };
  const value = (): XmlValue => {
    expect('<value>');
    const t = tokens[i]!;
    let out: XmlValue;
    if (!t.startsWith('<') || t === '</value>') {
      out = t === '</value>' ? '' : unescapeXml(tokens[i++]!);
      expect('</value>');
      return out;
    }
    i++;
    switch (t) {
      case '<string>': out = text('</string>'); break;
      case '<string/>': out = ''; break;
      case '<int>': case '<i4>': out = Number(text(t.replace('<', '</'))); break;
      case '<double>': out = Number(text('</double>')); break;
      case '<boolean>': out = text('</boolean>') === '1'; break;
      case '<array>': {
        expect('<data>');
        const items: XmlValue[] = [];
        for (skipText(); tokens[i] === '<value>'; skipText()) items.push(value());
        expect('</data>');
        expect('</array>');
        out = items;
        break;
      }
      case '<struct>': {
        const obj: Record<string, XmlValue> = {};
        for (skipText(); tokens[i] === '<member>'; skipText()) {
          i++;
          expect('<name>');
          const name = text('</name>');
          obj[name] = value();
          expect('</member>');
        }
        expect('</struct>');
        out = obj;
        break;
      }
      default: throw new Error(`XML-RPC: unexpected ${t}`);
    }
    expect('</value>');
    return out;
  };
  i = tokens.findIndex((t) => t === '<fault>' || t === '<params>');
  if (i < 0) throw new Error('XML-RPC: no params or fault in the response');
  if (tokens[i++] === '<fault>') {
    const f = value() as { faultCode: number; faultString: string };
    throw new SupervisorFault(f.faultCode, f.faultString);
  }
  expect('<param>');
  return value();
}

/** One XML-RPC call; `timeoutMs` bounds a supervisord that stopped answering (a stop may wait stopwaitsecs). */
export async function rpc(config: FlywheelConfig, method: string, ...params: Array<string | number | boolean>): Promise<XmlValue> {
  const timeoutMs = method === 'supervisor.stopProcess' ? 3_700_000 : 30_000;
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params.map((p) => `<param>${encodeValue(p)}</param>`).join('')}</params></methodCall>`;
  const text = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      { socketPath: supervisorLayout(config).socket, path: '/RPC2', method: 'POST', headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`supervisord did not answer ${method} within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
  return parseXmlRpcResponse(text);
}

// --- supervisord itself ----------------------------------------------------------------------

/** Whether this data folder's supervisord answers on its socket. */
export async function isSupervisordRunning(config: FlywheelConfig): Promise<boolean> {
  if (!fs.existsSync(supervisorLayout(config).socket)) return false;
  try {
    const state = (await rpc(config, 'supervisor.getState')) as { statename: string };
    return state.statename === 'RUNNING';
  } catch {
    return false;
  }
}

/** Writes the main configuration and starts supervisord unless it already runs. */
export async function ensureSupervisord(config: FlywheelConfig): Promise<void> {
  if (await isSupervisordRunning(config)) return;
  const bin = findSupervisord(config);
  if (!bin) throw new StackError(noSupervisorWarning(config));
  const layout = supervisorLayout(config);
  await fsp.mkdir(layout.programDir, { recursive: true });
  await fsp.mkdir(path.dirname(layout.logFile), { recursive: true });
  await fsp.writeFile(layout.conf, renderSupervisordConf(layout), { mode: 0o600 });
  // A socket left by a supervisord that was killed would make the new one refuse to start.
  await fsp.rm(layout.socket, { force: true });
  try {
    // supervisord daemonizes: it forks, the parent returns, the daemon leads its own session.
    await execFileP(bin, ['-c', layout.conf], { cwd: '/', timeout: 30_000 });
  } catch (err) {
    throw new StackError(`supervisord did not start: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}; see ${layout.logFile}`, layout.logFile);
  }
  if ((await waitUntil(() => isSupervisordRunning(config), { timeoutMs: 30_000, intervalMs: 200 })) !== 'ready') {
    throw new StackError(`supervisord does not answer on ${layout.socket}; see ${layout.logFile}`, layout.logFile);
  }
}

/** Stops supervisord (which stops whatever programs it still runs) and removes its files. */
export async function shutdownSupervisord(config: FlywheelConfig): Promise<boolean> {
  if (!(await isSupervisordRunning(config))) return false;
  const layout = supervisorLayout(config);
  const pid = Number((await fsp.readFile(layout.pidFile, 'utf8').catch(() => '')).trim());
  await rpc(config, 'supervisor.shutdown').catch(() => undefined);
  const gone = async () => !fs.existsSync(layout.socket) && !(pid > 0 && fs.existsSync(`/proc/${pid}`));
  await waitUntil(gone, { timeoutMs: 60_000, intervalMs: 200 });
  await fsp.rm(layout.conf, { force: true });
  return true;
}

// --- programs ----------------------------------------------------------------------------------

export type ProgramState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'BACKOFF' | 'STOPPING' | 'EXITED' | 'FATAL' | 'UNKNOWN';

export interface ProgramInfo {
  name: string;
  state: ProgramState;
  /** 0 while no process runs. */
  pid: number;
}

/** What supervisord says of a program; undefined when supervisord is not running or does not know it. */
export async function programInfo(config: FlywheelConfig, name: string): Promise<ProgramInfo | undefined> {
  if (!fs.existsSync(supervisorLayout(config).socket)) return undefined;
  try {
    const info = (await rpc(config, 'supervisor.getProcessInfo', name)) as { statename: ProgramState; pid: number };
    return { name, state: info.statename, pid: info.pid };
  } catch {
    return undefined;
  }
}

export function programFiles(config: FlywheelConfig, name: string): { conf: string; env: string; group: string } {
  const dir = supervisorLayout(config).programDir;
  return { conf: path.join(dir, `${name}.conf`), env: path.join(dir, `${name}.env`), group: path.join(dir, `${name}.pgid`) };
}

/**
 * Registers a program (replacing an older definition of the same name) and starts it; returns
 * once supervisord has spawned it, with its pid.
 */
export async function startProgram(
  config: FlywheelConfig,
  spec: Omit<ProgramSpec, 'envFile'> & { env?: NodeJS.ProcessEnv },
): Promise<ProgramInfo> {
  await ensureSupervisord(config);
  const files = programFiles(config, spec.name);
  const { env, ...rest } = spec;
  if (env) await fsp.writeFile(files.env, renderEnvFile(env), { mode: 0o600 });
  else await fsp.rm(files.env, { force: true });
  await fsp.writeFile(files.conf, renderProgram({ ...rest, ...(env ? { envFile: files.env, groupFile: files.group } : {}) }), { mode: 0o600 });
  await rpc(config, 'supervisor.reloadConfig');
  // Like `supervisorctl update <name>`: a changed definition replaces the loaded one.
  if (await programInfo(config, spec.name)) {
    await rpc(config, 'supervisor.stopProcess', spec.name, true).catch(() => undefined);
    await rpc(config, 'supervisor.removeProcessGroup', spec.name);
  }
  await rpc(config, 'supervisor.addProcessGroup', spec.name);
  await rpc(config, 'supervisor.startProcess', spec.name, false);
  let info: ProgramInfo | undefined;
  await waitUntil(
    async () => {
      info = await programInfo(config, spec.name);
      return info !== undefined && (info.pid > 0 || info.state === 'FATAL' || info.state === 'BACKOFF');
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  if (!info || info.pid === 0) {
    throw new StackError(`supervisord could not start ${spec.name} (${info?.state ?? 'unknown'}); see ${spec.logFile}`, spec.logFile);
  }
  return info;
}

/** Stops a program (stop signal to its group, SIGKILL after stopwaitsecs) and forgets it. */
export async function stopProgram(config: FlywheelConfig, name: string): Promise<boolean> {
  const info = await programInfo(config, name);
  if (!info) return false;
  try {
    await rpc(config, 'supervisor.stopProcess', name, true);
  } catch (err) {
    // NOT_RUNNING (70): it was between restarts, or already stopped.
    if (!(err instanceof SupervisorFault && err.code === 70)) throw err;
  }
  await rpc(config, 'supervisor.removeProcessGroup', name).catch(() => undefined);
  const files = programFiles(config, name);
  await fsp.rm(files.conf, { force: true });
  await fsp.rm(files.env, { force: true });
  await fsp.rm(files.group, { force: true });
  return true;
}

/** Programs supervisord still knows (after `down` stopped ours, normally none). */
export async function programNames(config: FlywheelConfig): Promise<string[]> {
  try {
    return ((await rpc(config, 'supervisor.getAllProcessInfo')) as Array<{ name: string }>).map((p) => p.name);
  } catch {
    return [];
  }
}
