// `warden serve`, `warden config` and `warden customers …`: thin adapters over src/serve.ts, the
// declared settings (src/config.ts) and the tenancy operations the admin API uses.

import type { Command } from 'commander';
import { effectiveConfig, processConfig } from '../config.js';
import { openStores } from '../store/open-stores.js';
import { serveForever } from '../serve.js';
import { TenancyError, createCustomer, issueCredential, redacted, updateCustomer, type CustomerInput } from '../http/admin/tenancy.js';

function configArgs(o: {
  port?: string;
  host?: string;
  dataDir?: string;
  config?: string;
  publicUrl?: string;
  workers?: string;
}): string[] {
  const a: string[] = [];
  if (o.publicUrl !== undefined) a.push('--public-url', o.publicUrl);
  if (o.workers !== undefined) a.push('--workers', o.workers);
  if (o.port !== undefined) a.push('--port', o.port);
  if (o.host !== undefined) a.push('--host', o.host);
  if (o.dataDir !== undefined) a.push('--data-dir', o.dataDir);
  if (o.config !== undefined) a.push('--config', o.config);
  return a;
}

function withConfigOptions(cmd: Command): Command {
  return cmd
    .option('--port <n>', 'listen port (WARDEN_PORT, default 8080)')
    .option('--host <addr>', 'listen address (WARDEN_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'SQLite data directory (WARDEN_DATA_DIR, default ./warden-data)')
    .option('--config <file>', 'configuration file (default warden.config.json)');
}

export function registerServeCommands(program: Command, defaultPack: string): void {
  withConfigOptions(program.command('serve'))
    .description('run the HTTP gateway (native API, Twilio-compatible API, admin API)')
    .option('--pack <dir>', 'rule pack directory', defaultPack)
    .option('--no-sink', 'do not mount the built-in sink upstream or seed the demo customer')
    .option('--public-url <url>', 'URL at which providers reach this gateway (webhook signatures)')
    .option(
      '--workers <n>',
      'gateway processes sharing the port: a number or "auto" (one per core) (WARDEN_WORKERS, default 1); more than 1 needs --no-sink',
    )
    .action(
      async (o: {
        port?: string;
        host?: string;
        dataDir?: string;
        config?: string;
        pack: string;
        sink: boolean;
        publicUrl?: string;
        workers?: string;
      }) => {
        await serveForever({ config: processConfig(configArgs(o)), packDir: o.pack, demo: o.sink });
      },
    );

  withConfigOptions(program.command('config'))
    .description('print the effective configuration (environment, file and flags), secrets masked')
    .option('--workers <n>', 'as for serve')
    .option('--public-url <url>', 'as for serve')
    .action((o: { port?: string; host?: string; dataDir?: string; config?: string; publicUrl?: string; workers?: string }) => {
      process.stdout.write(JSON.stringify(effectiveConfig(processConfig(configArgs(o))), null, 2) + '\n');
    });

  registerCustomerCommands(program);
}

type ConfigFlags = { port?: string; host?: string; dataDir?: string; config?: string };
type Run = (f: (stores: Awaited<ReturnType<typeof openStores>>) => Promise<unknown>) => (o: ConfigFlags) => Promise<void>;

/** Runs one customers subcommand on the stores the flags select and prints its result as JSON. */
const run: Run = (f) => async (o) => {
  const stores = await openStores(processConfig(configArgs(o)), { log: () => undefined });
  try {
    const out = await f(stores);
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } catch (e) {
    process.stderr.write(`warden: ${(e as Error).message}\n`);
    process.exitCode = e instanceof TenancyError && e.statusCode === 404 ? 3 : 1;
  } finally {
    await stores.close();
  }
};

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `warden customers list|add|show|update|credential|revoke`, on the stores the configuration selects. */
function registerCustomerCommands(program: Command): void {
  const customers = program.command('customers').description('manage customers and their credentials');

  withConfigOptions(customers.command('list'))
    .description('list customers')
    .action((o) => run(async (s) => (await s.tenancy.listCustomers()).map(redacted))(o));

  withConfigOptions(customers.command('add'))
    .description('create a customer')
    .argument('<id>')
    .option('--name <name>')
    .option('--account-sid <sid>', 'AC… SID the apps authenticate with (generated when absent)')
    .option('--upstream <url>', 'upstream API base URL', 'https://api.twilio.com')
    .option('--upstream-account-sid <sid>')
    .option('--upstream-auth-token <token>')
    .option(
      '--senders <list>',
      'comma-separated owned senders: E.164 numbers, Messaging Service SIDs (MG…), whatsapp:+… addresses, sender IDs',
    )
    .option('--webhook <url>', 'customer webhook for inbound messages')
    .option('--allowed-countries <list>', 'comma-separated ISO country codes')
    .option('--signing-secret <secret>', "sign relays to the webhook with this instead of the customer's auth token")
    .option(
      '--refusal-mode <mode>',
      'how a content refusal reaches the apps: sync (a 400, default) or async (accepted, then failed with 30007)',
    )
    .action((id: string, o: Record<string, string | undefined>) =>
      run(async (s) => {
        const input: CustomerInput = { id, upstream: { baseUrl: o.upstream as string } };
        if (o.name) input.name = o.name;
        if (o.accountSid) input.accountSid = o.accountSid;
        if (o.upstreamAccountSid) input.upstream!.accountSid = o.upstreamAccountSid;
        if (o.upstreamAuthToken) input.upstream!.authToken = o.upstreamAuthToken;
        if (o.senders) input.senders = list(o.senders);
        if (o.webhook) input.webhookUrl = o.webhook;
        if (o.allowedCountries) input.settings = { allowedCountries: list(o.allowedCountries) };
        if (o.signingSecret) input.settings = { ...input.settings, signingSecret: o.signingSecret };
        if (o.refusalMode) input.settings = { ...input.settings, refusalMode: o.refusalMode as 'sync' | 'async' };
        return redacted(await createCustomer(s, input));
      })(o),
    );

  withConfigOptions(customers.command('show'))
    .argument('<id>')
    .description('show one customer')
    .action((id: string, o) =>
      run(async (s) => {
        const c = await s.tenancy.getCustomer(id);
        if (c === null) throw new TenancyError(404, `no customer ${id}`);
        return redacted(c);
      })(o),
    );

  registerCustomerUpdate(customers);

  withConfigOptions(customers.command('credential'))
    .description('issue a credential (the secret is printed once)')
    .argument('<id>', 'customer')
    .option('--api-key', 'an SK… API key (default: the account auth token)')
    .option('--end-user <id>', 'end user (e.g. subaccount SID) the credential acts as')
    .action((id: string, o: { apiKey?: boolean; endUser?: string; dataDir?: string; config?: string }) =>
      run(async (s) => issueCredential(s, id, { kind: o.apiKey ? 'api-key' : 'auth-token', ...(o.endUser ? { endUser: o.endUser } : {}) }))(
        o,
      ),
    );

  withConfigOptions(customers.command('revoke'))
    .description('revoke a credential')
    .argument('<credential-id>')
    .action((cid: string, o) =>
      run(async (s) => {
        if ((await s.tenancy.getCredential(cid)) === null) throw new TenancyError(404, `no credential ${cid}`);
        await s.tenancy.revokeCredential(cid, new Date().toISOString());
        return { revoked: cid };
      })(o),
    );
}

/** `warden customers update`: given fields replace, settings merge. */
function registerCustomerUpdate(customers: Command): void {
  withConfigOptions(customers.command('update'))
    .description('change a customer (given fields replace; settings merge)')
    .argument('<id>')
    .option('--name <name>')
    .option('--upstream <url>')
    .option('--upstream-account-sid <sid>')
    .option('--upstream-auth-token <token>')
    .option(
      '--senders <list>',
      'comma-separated owned senders: E.164 numbers, Messaging Service SIDs (MG…), whatsapp:+… addresses, sender IDs',
    )
    .option('--webhook <url>')
    .option('--refusal-mode <mode>', 'sync or async')
    .option('--allowed-countries <list>')
    .option('--help-reply <text>')
    .option('--stop-reply <text>')
    .option('--hash-recipients <bool>')
    .option('--signing-secret <secret>', 'sign relays to the webhook with this ("" : with the customer\'s auth token again)')
    .action((id: string, o: Record<string, string | undefined>) =>
      run(async (s) => {
        const patch: Omit<CustomerInput, 'id' | 'accountSid'> = {};
        if (o.name) patch.name = o.name;
        if (o.upstream || o.upstreamAccountSid || o.upstreamAuthToken) {
          patch.upstream = {};
          if (o.upstream) patch.upstream.baseUrl = o.upstream;
          if (o.upstreamAccountSid) patch.upstream.accountSid = o.upstreamAccountSid;
          if (o.upstreamAuthToken) patch.upstream.authToken = o.upstreamAuthToken;
        }
        if (o.senders !== undefined) patch.senders = list(o.senders);
        if (o.webhook) patch.webhookUrl = o.webhook;
        const settings: NonNullable<CustomerInput['settings']> = {};
        if (o.allowedCountries !== undefined) settings.allowedCountries = list(o.allowedCountries);
        if (o.helpReply !== undefined) settings.helpReply = o.helpReply;
        if (o.stopReply !== undefined) settings.stopReply = o.stopReply;
        if (o.hashRecipients !== undefined) settings.hashRecipients = o.hashRecipients === 'true';
        if (o.signingSecret !== undefined) settings.signingSecret = o.signingSecret;
        if (o.refusalMode !== undefined) settings.refusalMode = o.refusalMode as 'sync' | 'async';
        if (Object.keys(settings).length > 0) patch.settings = settings;
        return redacted(await updateCustomer(s, id, patch));
      })(o),
    );
}
