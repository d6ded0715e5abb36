/**
 * `flywheel login | logout | whoami`: a person's identity for the CLI. The token (from the realm's
 * public `flywheel-cli` client) is kept in <data folder>/credentials/login.json (0600) and sent to
 * the gateway instead of the local admin key; the audit trail then names the person.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { discover, finishDeviceLogin, OidcLoginError, passwordLogin, startDeviceLogin, type TokenSet } from '../../clients/oidc-login';
import { clearLogin, readLogin, writeLogin } from '../../traffic/credentials';
import { json } from '../command-kit';
import { CliError, printFields, printJson } from '../output';
import type { WithConfig } from './serving';

interface LoginOptions {
  issuer?: string;
  clientId: string;
  username?: string;
  passwordStdin?: boolean;
  json?: boolean;
}

const LOCAL_ISSUER = 'http://127.0.0.1:8180/realms/flywheel';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function describeLogin(t: TokenSet) {
  return { user: t.subject, issuer: t.issuer, client: t.clientId, expires: new Date(t.expiresAt).toISOString(), refreshable: t.refreshToken !== undefined };
}

async function loginCommand(config: FlywheelConfig, opts: LoginOptions): Promise<void> {
  const issuer = (opts.issuer ?? config.gateway.auth.oidc?.issuer ?? LOCAL_ISSUER).replace(/\/+$/, '');
  if (opts.passwordStdin && !opts.username) throw new CliError('--password-stdin needs --username', 2);
  let tokens: TokenSet;
  try {
    const endpoints = await discover(issuer);
    if (opts.username) {
      if (!opts.passwordStdin) throw new CliError('a password login reads the password from standard input: add --password-stdin (it is never taken as an argument)', 2);
      const password = await readStdin();
      if (!password) throw new CliError('no password on standard input', 2);
      tokens = await passwordLogin(endpoints, opts.clientId, opts.username, password);
    } else {
      const challenge = await startDeviceLogin(endpoints, opts.clientId);
      // The person's instructions go to stderr, so `--json` output stays one document.
      process.stderr.write(`To log in, open ${challenge.verificationUriComplete ?? challenge.verificationUri}\nand confirm the code ${challenge.userCode} (valid ${Math.round((challenge.expiresAt - Date.now()) / 60_000)} min). Waiting…\n`);
      tokens = await finishDeviceLogin(endpoints, opts.clientId, challenge);
    }
  } catch (err) {
    if (err instanceof OidcLoginError) throw new CliError(err.message, /cannot reach/.test(err.message) ? 3 : 2);
    throw err;
  }
  const file = writeLogin(config, tokens);
  if (opts.json) printJson({ ...describeLogin(tokens), file });
  else printFields({ 'logged in as': tokens.subject, issuer: tokens.issuer, 'kept in': `${file} (0600)` });
}

export function registerLoginCommands(program: Command, withConfig: WithConfig): void {
  json(
    program
      .command('login')
      .description("log in as a person (OIDC device login; or --username with --password-stdin): the CLI then calls the gateway as you, and the audit trail names you")
      .option('--issuer <url>', `OIDC issuer (default: FLYWHEEL_OIDC_ISSUER, else the local Keycloak ${LOCAL_ISSUER})`)
      .option('--client-id <id>', 'public OIDC client of the CLI', 'flywheel-cli')
      .option('-u, --username <name>', 'password login for this user (scripts; the password comes from stdin)')
      .option('--password-stdin', 'read the password from standard input'),
  ).action(withConfig((config, opts: LoginOptions) => loginCommand(config, opts)));

  json(program.command('logout').description('forget the login (the CLI goes back to FLYWHEEL_API_KEY or the local admin key)')).action(
    withConfig(async (config, opts: { json?: boolean }) => {
      const had = clearLogin(config);
      if (opts.json) printJson({ loggedOut: had });
      else process.stdout.write(had ? 'logged out\n' : 'not logged in\n');
    }),
  );

  json(program.command('whoami').description('who the CLI acts as: the logged-in person, FLYWHEEL_API_KEY, or the local admin key')).action(
    withConfig(async (config, opts: { json?: boolean }) => {
      const login = readLogin(config);
      const who = config.apiKey
        ? { as: 'api-key', source: 'FLYWHEEL_API_KEY' }
        : login
          ? { as: 'person', ...describeLogin(login), expired: login.expiresAt <= Date.now() }
          : { as: 'local-admin-key', present: fs.existsSync(`${config.dataDir}/credentials/cli.key`) };
      if (opts.json) printJson(who);
      else printFields(who as Record<string, unknown>);
    }),
  );
}
