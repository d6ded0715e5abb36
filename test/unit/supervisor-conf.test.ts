/** The local stack's supervisord configuration text, and the XML-RPC answers Flywheel reads back. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { programArgv, quoteWord, WRAPPER_SCRIPT, renderEnvFile, renderProgram, renderSupervisordConf, type ProgramSpec, type SupervisordPaths } from '../../scripts/stack/supervisor-conf';
import { parseXmlRpcResponse, SupervisorFault } from '../../scripts/stack/supervisor';

const paths: SupervisordPaths = {
  socket: '/data/run/supervisor.sock',
  pidFile: '/data/run/supervisord.pid',
  logFile: '/data/logs/supervisord.log',
  childLogDir: '/data/logs',
  include: '/data/run/supervisor/*.conf',
  identifier: 'flywheel-abc',
};

const worker: ProgramSpec = {
  name: 'control-worker',
  command: '/usr/bin/node',
  args: ['--import', 'tsx', 'workers/control-worker.ts'],
  cwd: '/repo',
  logFile: '/data/logs/control-worker.log',
  envFile: '/data/run/supervisor/control-worker.env',
  groupFile: '/data/run/supervisor/control-worker.pgid',
  stopWaitSecs: 50,
  startSecs: 3,
  startRetries: 30,
};

function section(text: string, name: string): Record<string, string> {
  const lines = text.split('\n');
  const start = lines.indexOf(`[${name}]`);
  expect(start, `section [${name}]`).toBeGreaterThanOrEqual(0);
  const out: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('[')) break;
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith(';')) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

it('the main file: a 0700 unix socket (no inet server), supervisorctl pointed at it, programs included', () => {
  const text = renderSupervisordConf(paths);
  expect(section(text, 'unix_http_server')).toEqual({ file: paths.socket, chmod: '0700' });
  expect(text).not.toContain('inet_http_server');
  expect(section(text, 'supervisorctl')).toEqual({ serverurl: `unix://${paths.socket}` });
  expect(section(text, 'include')).toEqual({ files: paths.include });
  const main = section(text, 'supervisord');
  expect(main).toMatchObject({ pidfile: paths.pidFile, logfile: paths.logFile, nodaemon: 'false', identifier: 'flywheel-abc' });
  expect(section(text, 'rpcinterface:supervisor')['supervisor.rpcinterface_factory']).toBe('supervisor.rpcinterface:make_main_rpcinterface');
});

it('a program restarts when it dies, is started and stopped by Flywheel, and stops as a group', () => {
  const p = section(renderProgram(worker), 'program:control-worker');
  expect(p).toMatchObject({
    autostart: 'false',
    autorestart: 'true',
    startsecs: '3',
    startretries: '30',
    stopsignal: 'TERM',
    stopwaitsecs: '50',
    stopasgroup: 'true',
    killasgroup: 'true',
    redirect_stderr: 'true',
    stdout_logfile: '/data/logs/control-worker.log',
    stdout_logfile_maxbytes: '0',
    directory: '/repo',
  });
  expect(p.user).toBeUndefined();
  // The environment comes from the 0600 file, exec'd into: the pid supervisord holds is node's.
  expect(p.command).toBe(`/usr/bin/env -i /bin/sh -c ${quoteWord(WRAPPER_SCRIPT)} /data/run/supervisor/control-worker.env /data/run/supervisor/control-worker.pgid /usr/bin/node --import tsx workers/control-worker.ts`);
});

it('PostgreSQL runs in the foreground as its own user and stops with the fast-shutdown signal', () => {
  const spec: ProgramSpec = { ...worker, name: 'postgres', command: '/usr/lib/postgresql/15/bin/postgres', args: ['-D', '/data/postgres'], envFile: undefined, groupFile: undefined, user: 'postgres', stopSignal: 'INT', stopWaitSecs: 60 };
  const p = section(renderProgram(spec), 'program:postgres');
  expect(p).toMatchObject({ command: '/usr/lib/postgresql/15/bin/postgres -D /data/postgres', user: 'postgres', stopsignal: 'INT', stopwaitsecs: '60' });
  expect(programArgv(spec)).toEqual(['/usr/lib/postgresql/15/bin/postgres', '-D', '/data/postgres']);
});

it('words with spaces, quotes and percent signs survive supervisord\'s expansion and shell splitting', () => {
  expect(quoteWord('/plain/path-1.2')).toBe('/plain/path-1.2');
  expect(quoteWord('a b')).toBe("'a b'");
  expect(quoteWord("it's")).toBe(`'it'"'"'s'`);
  expect(quoteWord('50%')).toBe("'50%%'");
  expect(() => renderProgram({ ...worker, logFile: '/a\nb' })).toThrow(/line break/);
  expect(() => renderProgram({ ...worker, name: 'bad name' })).toThrow(/program name/);
  // Flywheel's own data folder may hold a percent sign.
  expect(section(renderSupervisordConf({ ...paths, socket: '/d%x/s.sock' }), 'unix_http_server').file).toBe('/d%%x/s.sock');
});

it('the env file gives the program exactly its environment, whatever the values hold', () => {
  const env = { PATH: '/usr/bin:/bin', DATABASE_URL: "postgres://u:p'a$s`w%rd@h/db", MULTI: 'one\ntwo', 'NOT-A-NAME': 'x', EMPTY: '' };
  const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-envfile-'));
  try {
    const file = path.join(dir, 'x.env');
    writeFileSync(file, renderEnvFile(env));
    const argv = programArgv({ command: '/usr/bin/env', args: ['-0'], envFile: file });
    const out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { LEAKED: 'yes' } });
    const seen = Object.fromEntries(out.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    delete seen.PWD; // sh sets it
    expect(seen).toEqual({ PATH: env.PATH, DATABASE_URL: env.DATABASE_URL, MULTI: env.MULTI, EMPTY: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a restart clears what the dead run left in its process group (MLflow\'s uvicorn would hold the port)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-wrapper-'));
  const started: number[] = [];
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const waitFor = async (check: () => boolean) => {
    while (!check()) await new Promise((r) => setTimeout(r, 20));
  };
  try {
    const envFile = path.join(dir, 'x.env');
    const groupFile = path.join(dir, 'x.pgid');
    const childFile = path.join(dir, 'child.pid');
    writeFileSync(envFile, renderEnvFile({ PATH: process.env.PATH, CHILD_FILE: childFile }));
    // Like supervisord: the program leads its own group; it forks a child that outlives it.
    const run = () => {
      const child = spawn(...(([c, ...a]) => [c!, a] as const)(programArgv({ command: '/bin/sh', args: ['-c', 'sleep 300 & echo $! > "$CHILD_FILE"; wait'], envFile, groupFile })), { detached: true, stdio: 'ignore' });
      started.push(child.pid!);
      return child;
    };
    const first = run();
    await waitFor(() => existsSync(childFile) && readFileSync(childFile, 'utf8').endsWith('\n'));
    const orphan = Number(readFileSync(childFile, 'utf8'));
    expect(Number(readFileSync(groupFile, 'utf8'))).toBe(first.pid);
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited; // reaped, as supervisord does before it restarts a program
    expect(alive(orphan)).toBe(true);

    rmSync(childFile);
    const second = run();
    await waitFor(() => existsSync(childFile) && readFileSync(childFile, 'utf8').endsWith('\n'));
    await waitFor(() => !alive(orphan));
    expect(Number(readFileSync(groupFile, 'utf8'))).toBe(second.pid);
    // Its own group is not touched by itself, and a second start with the leader alive kills nothing.
    const third = run();
    await new Promise((r) => third.once('spawn', r));
    await waitFor(() => Number(readFileSync(groupFile, 'utf8')) === third.pid);
    expect(alive(second.pid!)).toBe(true);
  } finally {
    for (const pid of started) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

it('reads supervisord\'s XML-RPC answers: process info, arrays, faults', () => {
  const info = `<?xml version='1.0'?>
<methodResponse>
<params>
<param>
<value><struct>
<member>
<name>name</name>
<value><string>postgres</string></value>
</member>
<member>
<name>pid</name>
<value><int>4242</int></value>
</member>
<member>
<name>statename</name>
<value><string>RUNNING</string></value>
</member>
<member>
<name>description</name>
<value><string>pid 4242, uptime 0:00:05 &amp; &lt;more&gt;</string></value>
</member>
<member>
<name>spawnerr</name>
<value><string></string></value>
</member>
</struct></value>
</param>
</params>
</methodResponse>`;
  expect(parseXmlRpcResponse(info)).toEqual({ name: 'postgres', pid: 4242, statename: 'RUNNING', description: 'pid 4242, uptime 0:00:05 & <more>', spawnerr: '' });
  expect(parseXmlRpcResponse('<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value>bare</value></data></array></value></param></params></methodResponse>')).toEqual([true, 'bare']);
  const fault = '<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>70</int></value></member><member><name>faultString</name><value><string>NOT_RUNNING: postgres</string></value></member></struct></value></fault></methodResponse>';
  expect(() => parseXmlRpcResponse(fault)).toThrow(SupervisorFault);
  try {
    parseXmlRpcResponse(fault);
  } catch (err) {
    expect((err as SupervisorFault).code).toBe(70);
  }
});
