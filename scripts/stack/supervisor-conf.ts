/**
 * The text of the local stack's supervisord configuration: pure functions, no I/O.
 *
 * One supervisord per data folder (`<data>/run/supervisord.conf`), reached over a unix socket
 * with mode 0700 (never inet). Each service is a `[program:x]` in a file of its own under
 * `<data>/run/supervisor/`, included by the main file, so `flywheel up` adds one service without
 * knowing how the others were started. supervisord restarts a program that dies
 * (autorestart=true); Flywheel starts and stops programs itself (autostart=false), so a
 * supervisord started afresh never starts a service behind `flywheel up`'s back.
 */

export interface SupervisordPaths {
  /** The unix socket supervisorctl and Flywheel talk to. */
  socket: string;
  pidFile: string;
  /** supervisord's own log. */
  logFile: string;
  /** Where supervisord puts logs of programs that name none (ours all do). */
  childLogDir: string;
  /** Glob of the per-program files, e.g. `<data>/run/supervisor/*.conf`. */
  include: string;
  /** Tells apart the supervisord of one data folder from another's in `supervisorctl` output. */
  identifier: string;
}

export interface ProgramSpec {
  name: string;
  /** argv[0] (absolute) and the rest, as exec'd. */
  command: string;
  args: string[];
  cwd: string;
  /** Where stdout and stderr go (appended; no rotation, like the detached services'). */
  logFile: string;
  /**
   * A file of `KEY='value'` lines (mode 0600) that becomes the program's whole environment:
   * values never show in `ps` nor in the configuration. Without it the program inherits
   * supervisord's environment (and `groupFile` is not used).
   */
  envFile?: string;
  /** Where the wrapper notes the program's process group, to clear what a dead run left behind. */
  groupFile?: string;
  /** Run as this user (supervisord runs as root then). */
  user?: string;
  /** Signal name without SIG: PostgreSQL's fast shutdown is INT. Default TERM. */
  stopSignal?: 'TERM' | 'INT' | 'QUIT' | 'HUP';
  /** After the stop signal, how long before SIGKILL to the group. */
  stopWaitSecs: number;
  /** Seconds a (re)started program must stay up to count as started. */
  startSecs: number;
  /** Consecutive failed starts (each shorter than startSecs) before supervisord gives up (FATAL). */
  startRetries: number;
}

/** supervisord expands `%(name)s` in values: a literal percent sign is written `%%`. */
export function escapePercent(value: string): string {
  return value.replace(/%/g, '%%');
}

/** One word for supervisord's `command=` (split like a POSIX shell, after `%` expansion). */
export function quoteWord(word: string): string {
  if (/^[A-Za-z0-9_\/.,:=+@-]+$/.test(word)) return escapePercent(word);
  return escapePercent(`'${word.replace(/'/g, `'"'"'`)}'`);
}

/** A value on a `key=value` line must not break the line. */
function lineValue(key: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`supervisord ${key} cannot hold a line break: ${JSON.stringify(value)}`);
  return escapePercent(value);
}

/**
 * Runs before each (re)start, in `sh` with no PATH (builtins only). $0 is the env file, $1 the group
 * file. A program killed alone (SIGKILL, OOM) can leave children in its process group — MLflow's
 * uvicorn holding the port — and its restart would then fail forever: when the last run's group
 * leader is gone, SIGKILL what is left of its group. The group's id cannot belong to anyone else
 * meanwhile: the kernel does not hand out a pid that a living process still has as its group id,
 * and when no member lives the kill finds nothing. (dash's kill takes `-s KILL -- -g`, not
 * `-KILL -- -g`.) Then note our own group ($$: supervisord makes each program lead its group, and
 * `exec` keeps the pid), load the environment and become the program.
 */
export const WRAPPER_SCRIPT =
  'g=; read g 2>/dev/null < "$1"; if [ -n "$g" ] && [ ! -e "/proc/$g" ]; then kill -s KILL -- "-$g" 2>/dev/null; fi; ' +
  'echo $$ > "$1"; set -a; . "$0"; set +a; shift; exec "$@"';

/**
 * The exec'd argv: with an env file, `env -i` clears supervisord's environment and `sh` runs
 * WRAPPER_SCRIPT, which `exec`s the program, so the pid supervisord holds is the program's own.
 */
export function programArgv(spec: Pick<ProgramSpec, 'command' | 'args' | 'envFile' | 'groupFile'>): string[] {
  const argv = [spec.command, ...spec.args];
  if (!spec.envFile) return argv;
  return ['/usr/bin/env', '-i', '/bin/sh', '-c', WRAPPER_SCRIPT, spec.envFile, spec.groupFile ?? '/dev/null', ...argv];
}

export function renderProgram(spec: ProgramSpec): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(spec.name)) throw new Error(`not a supervisord program name: ${spec.name}`);
  const lines = [
    `[program:${spec.name}]`,
    `command=${programArgv(spec).map(quoteWord).join(' ')}`,
    `directory=${lineValue('directory', spec.cwd)}`,
    ...(spec.user ? [`user=${lineValue('user', spec.user)}`] : []),
    // New files are the owner's alone (scripts/stack/private-files.ts).
    'umask=077',
    'autostart=false',
    'autorestart=true',
    `startsecs=${spec.startSecs}`,
    `startretries=${spec.startRetries}`,
    `stopsignal=${spec.stopSignal ?? 'TERM'}`,
    `stopwaitsecs=${spec.stopWaitSecs}`,
    // The signal reaches every process the service forked (MLflow's uvicorn, say), and so does the kill.
    'stopasgroup=true',
    'killasgroup=true',
    'redirect_stderr=true',
    `stdout_logfile=${lineValue('stdout_logfile', spec.logFile)}`,
    'stdout_logfile_maxbytes=0',
    'stdout_logfile_backups=0',
  ];
  return `${lines.join('\n')}\n`;
}

/** The main file; `programs` are inlined after it (the stack writes them to included files instead). */
export function renderSupervisordConf(paths: SupervisordPaths, programs: readonly ProgramSpec[] = []): string {
  const v = (key: string, value: string) => `${key}=${lineValue(key, value)}`;
  const main = [
    '; Written by `flywheel up`; rewritten at every start of supervisord. Do not edit.',
    '[unix_http_server]',
    v('file', paths.socket),
    'chmod=0700',
    '',
    '[supervisord]',
    v('logfile', paths.logFile),
    'logfile_maxbytes=10MB',
    'logfile_backups=2',
    v('pidfile', paths.pidFile),
    v('childlogdir', paths.childLogDir),
    v('identifier', paths.identifier),
    'directory=/',
    // Its own logs and the programs' output files are the owner's alone (scripts/stack/private-files.ts).
    'umask=077',
    'nodaemon=false',
    'minfds=1024',
    '',
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    '',
    '[supervisorctl]',
    `serverurl=unix://${lineValue('serverurl', paths.socket)}`,
    '',
    '[include]',
    v('files', paths.include),
    '',
  ].join('\n');
  return [main, ...programs.map(renderProgram)].join('\n');
}

/** Lines of a file that `sh` can `.`: `KEY='value'`; names a shell cannot hold are left out. */
export function renderEnvFile(env: NodeJS.ProcessEnv): string {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(e[0]))
    .map(([k, val]) => `${k}='${val.replace(/'/g, `'\\''`)}'\n`)
    .join('');
}
