/** The `flywheel` command line. Every command takes --json; every failure is one line and a non-zero exit. */
import { Command } from 'commander';
import { collect, json, oneLineUsageErrors, withConfig } from './command-kit';
import { quietOnClosedStdout } from './output';
import { downCommand, statusCommand, upCommand } from './commands/stack';
import { trainCommand } from './commands/train';
import { listWorkflows, showWorkflow } from './commands/workflows';
import { listModels, showModel } from './commands/models';
import { hpoStartCommand, hpoStatusCommand, type HpoStartOptions } from './commands/hpo';
import { registerCanaryCommands } from './commands/canary';
import { registerAbCommands } from './commands/ab';
import { registerKnowledgeCommands } from './commands/knowledge';
import { registerOnlineCommands } from './commands/online';
import { registerServingCommands } from './commands/serving';
import { registerTrafficCommands } from './commands/traffic';
import { registerScheduleCommands } from './commands/schedule';
import { registerDriftCommands } from './commands/drift';
import { registerDoctorCommand } from './commands/doctor';
import { registerBackupCommands } from './commands/backup';
import { registerKeysCommands } from './commands/keys';
import { registerLoginCommands } from './commands/login';
import { registerReportCommand } from './commands/report';
import { inSpan, startTracing } from '../clients/tracing';
import { registerDataCommands } from './commands/data';
import { registerShadowCommands } from './commands/shadow';

quietOnClosedStdout();
const program = new Command();
program.name('flywheel').description('Continuous-learning MLOps on Temporal').version('0.1.0');


json(program.command('up').description('start the local stack and workers (only what is not already running)'))
  .option('--no-workers', 'start PostgreSQL, Temporal and MLflow only')
  .option('--gpu', 'run the PyTorch worker on CUDA (fails without a GPU); default: CUDA when present, else the CPU')
  .option('--auth-idp', 'also start a local Keycloak (OIDC issuer, realm flywheel) for gateway tokens')
  .option('--no-monitoring', 'leave out Prometheus, Alertmanager and the exporters (also FLYWHEEL_MONITORING=off)')
  .action(withConfig((config, opts: { workers: boolean; gpu?: boolean; authIdp?: boolean; monitoring?: boolean; json?: boolean }) => upCommand(config, opts)));

json(program.command('down').description('stop what `flywheel up` started'))
  .action(withConfig((config, opts: { json?: boolean }) => downCommand(config, opts)));

json(program.command('status').description("each part's health"))
  .action(withConfig((config, opts: { json?: boolean }) => statusCommand(config, opts)));

const searchOptions = (cmd: Command) =>
  cmd
    .option('--space <file>', 'search space as a JSON or YAML file')
    .option('--search-param <name=spec>', 'search one parameter: float:LOW:HIGH[:log][:step=S], int:LOW:HIGH[:log], cat:A,B,C (repeatable)', collect, [] as string[])
    .option('--trials <n>', 'number of trials', '20')
    .option('--parallel <k>', 'trials run at once', '2')
    .option('--pruner <name>', 'none, median or successive-halving', 'median')
    .option('--metric <name>', 'validation metric to optimise: logLoss, accuracy, f1, auc', 'logLoss')
    .option('--seed <n>', 'study seed (same seed, same proposals)');

json(
  searchOptions(
    program
      .command('train')
      .description('train a model: validate → split → train → export ONNX → evaluate → MLflow run → registry')
      .requiredOption('-d, --dataset <ref>', 'builtin name (penguins, iris, breast-cancer, wine), synthetic:rows=N,features=D,classes=K,seed=S, or a .csv/.json file')
      .option('-m, --model <name>', 'registered model name (default: from the dataset)')
      .option('-f, --family <family>', 'model family: softmax-regression (CPU pool) or mlp (PyTorch pool, GPU when one is up)', 'softmax-regression')
      .option('-l, --label <column>', 'label column of a file dataset')
      .option('-p, --param <key=value>', 'hyperparameter, repeatable (softmax-regression: learningRate, l2, epochs, batchSize, seed; mlp: hiddenUnits, hiddenLayers, learningRate, weightDecay, epochs, batchSize, seed)', collect, [] as string[])
      .option('--holdout <fraction>', 'holdout fraction for evaluation', undefined)
      .option('--split-seed <n>', 'seed of the stratified split', undefined)
      .option('--pool <pool>', 'PyTorch families (mlp): auto (GPU worker, else the CPU torch worker), gpu (GPU only) or cpu')
      .option('--gpu-wait <seconds>', 'PyTorch families: how long to wait for a GPU worker (default FLYWHEEL_GPU_WAIT_SECONDS, 60)')
      .option('--cpu-wait <seconds>', 'PyTorch families: how long the CPU torch queue may wait for a free worker before failing (default 600)')
      .option('--search <sampler>', 'search hyperparameters first (tpe, gp, random, grid), then train the best')
      .option('-w, --wait', 'wait for the result, showing live progress'),
  ),
).action(
  withConfig((config, opts) => {
    const o = opts as Parameters<typeof trainCommand>[1] & HpoStartOptions & { search?: string };
    if (o.search) return hpoStartCommand(config, { ...o, sampler: o.search, trainBest: true });
    return trainCommand(config, o);
  }),
);

const hpo = program.command('hpo').description('hyperparameter searches (grid, random, TPE, Gaussian-process Bayesian)');
json(
  searchOptions(
    hpo
      .command('start')
      .description('start a durable search; the best configuration is then trained and registered')
      .requiredOption('-d, --dataset <ref>', 'dataset reference, as for train')
      .option('-m, --model <name>', 'registered model name (default: from the dataset)')
      .option('-f, --family <family>', 'model family', 'softmax-regression')
      .option('-l, --label <column>', 'label column of a file dataset')
      .option('-p, --param <key=value>', 'hyperparameter held fixed in every trial (repeatable)', collect, [] as string[])
      .option('--sampler <name>', 'tpe, gp, random or grid', 'tpe')
      .option('--no-train-best', 'stop after the search: do not train and register the best configuration')
      .option('-w, --wait', 'wait for the result, showing live progress'),
  ),
).action(withConfig((config, opts) => hpoStartCommand(config, opts as HpoStartOptions)));
json(hpo.command('status <workflowId>').description('trials done, running, pruned; best so far'))
  .action(withConfig((config, id: string, opts: { json?: boolean }) => hpoStatusCommand(config, id, opts)));

const workflows = program.command('workflows').description('Flywheel workflows in Temporal');
json(workflows.command('list').description('recent workflows, newest first'))
  .option('--model <name>', 'only this model')
  .option('--limit <n>', 'at most this many', '20')
  .action(withConfig((config, opts: { model?: string; limit: string; json?: boolean }) => listWorkflows(config, opts)));
json(workflows.command('show <workflowId>').description('one workflow: state, stages, metrics'))
  .action(withConfig((config, id: string, opts: { json?: boolean }) => showWorkflow(config, id, opts)));

const models = program.command('models').description('registered models (MLflow registry)');
json(models.command('list').description('registered models')).action(withConfig((config, opts: { json?: boolean }) => listModels(config, opts)));
json(models.command('show <name> [version]').description('versions of a model, or one version with its lineage'))
  .action(withConfig((config, name: string, version: string | undefined, opts: { json?: boolean }) => showModel(config, name, version, opts)));

registerServingCommands(program, withConfig);
registerTrafficCommands(program, withConfig);
registerCanaryCommands(program);
registerAbCommands(program);
registerScheduleCommands(program);
registerDriftCommands(program);
registerKnowledgeCommands(program);
registerOnlineCommands(program);
registerDoctorCommand(program);
registerBackupCommands(program);
registerKeysCommands(program, withConfig);
registerLoginCommands(program, withConfig);
registerReportCommand(program);
registerDataCommands(program, withConfig);
registerShadowCommands(program, withConfig);

oneLineUsageErrors(program);
// With OTEL_EXPORTER_OTLP_ENDPOINT set, the command is the root span of everything it starts.
const tracing = startTracing('flywheel-cli');
if (tracing) {
  await inSpan('flywheel', (span) => {
    // Named by the command that runs (`flywheel canary start`), never by its arguments.
    program.hook('preAction', (_root, action) => {
      const names: string[] = [];
      for (let c: typeof action | null = action; c?.parent; c = c.parent) names.unshift(c.name());
      span.updateName(`flywheel ${names.join(' ')}`);
    });
    return program.parseAsync(process.argv);
  });
  await tracing.shutdown();
} else {
  await program.parseAsync(process.argv);
}
