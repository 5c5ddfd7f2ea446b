/**
 * The options `run`, `put` and `get` share: pssh's hosts (files, `-H`, `--aliases`, host
 * ranges), parallelism, timeout, output flags, the rollout (`--batch`, `--canary`,
 * `--max-fail`, `--rate`), `--fold` and `--report`.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { expandHostRange, hostMatches, type FanOutTarget } from '../index.js';
import { parseHostsFile, sshConfigTargets, type FanOutConfig, type HostAmount } from '../fleet/index.js';
import { configFileOf, HOST_OPTIONS, timeoutOf, usageSpec, type HostOptions, type Values } from './host.js';
import { UsageError } from './usage.js';

/** What the fleet flags say: the hosts, how many at once, output, rollout, fold and report. */
export interface FleetOptions {
  readonly targets: FanOutTarget[];
  readonly par: number;
  /** Never draw the progress bar (`--no-progress`, `RXSSH_NO_PROGRESS`). */
  readonly noProgress?: boolean;
  readonly timeoutSec: number;
  readonly inline: boolean;
  readonly inlineStdout?: boolean;
  readonly print: boolean;
  readonly outdir: string | undefined;
  readonly errdir: string | undefined;
  readonly sendInput: boolean;
  readonly json: boolean;
  /** `--workers N`: run the hosts on N worker threads (undefined: the main thread). */
  readonly workers?: number;
  /** `--fold`: hosts with the same result printed once, under their folded names (text mode). */
  readonly fold?: boolean;
  /** `--report FILE`: write the run as one HTML page there at the end. */
  readonly report?: string;
  /** `--batch`, `--canary`, `--max-fail`/`--fail-fast`, `--rate`: how the run rolls out. */
  readonly rollout?: Pick<FanOutConfig, 'batch' | 'canary' | 'maxFail' | 'rate'>;
}

/** The options `run`, `put` and `get` share: pssh's hosts, parallelism, timeout and output flags. */
export const FLEET_OPTIONS = {
  ...HOST_OPTIONS,
  hosts: { type: 'string', short: 'h', multiple: true },
  host: { type: 'string', short: 'H', multiple: true },
  par: { type: 'string', short: 'p' },
  inline: { type: 'boolean', short: 'i' },
  'inline-stdout': { type: 'boolean' },
  print: { type: 'boolean', short: 'P' },
  outdir: { type: 'string', short: 'o' },
  errdir: { type: 'string', short: 'e' },
  'send-input': { type: 'boolean', short: 'I' },
  'no-progress': { type: 'boolean' },
  aliases: { type: 'string', multiple: true },
  'host-glob': { type: 'string', short: 'g' },
  workers: { type: 'string' },
  fold: { type: 'boolean' },
  report: { type: 'string' },
  batch: { type: 'string' },
  canary: { type: 'string' },
  'max-fail': { type: 'string' },
  'fail-fast': { type: 'boolean' },
  rate: { type: 'string' },
} as const;

/** pssh's environment variables a fleet command reads. */
export const FLEET_ENV = ['user', 'par', 'outdir', 'errdir', 'timeout', 'verbose', 'print', 'askpass', 'inline', 'option', 'hosts', 'no-progress'];

/**
 * The names of comma-separated patterns or specs with host ranges (`web[01-20]`, `db[1,3]`: a
 * comma inside brackets belongs to the range); a malformed range is a usage error.
 */
function rangesOf(text: string, flag: string): string[] {
  try {
    return text.split(/,(?![^[]*\])/).filter(Boolean).flatMap((part) => expandHostRange(part));
  } catch (err) {
    throw new UsageError(`${flag} ${text}: ${(err as Error).message}`);
  }
}

/** `--batch N|P%`, `--canary N`, `--max-fail N|P%`, `--fail-fast`, `--rate N[/s]` as fan-out config; a bad value is a usage error. */
function rolloutOf(values: Values): NonNullable<FleetOptions['rollout']> {
  const amount = (flag: string): HostAmount | undefined => {
    const text = values[flag] as string | undefined;
    if (text === undefined) return undefined;
    if (/^\d+$/.test(text)) return Number(text);
    if (/^\d+(\.\d+)?%$/.test(text) && Number(text.slice(0, -1)) <= 100) return text as `${number}%`;
    throw new UsageError(`--${flag} takes a number of hosts or a percentage (10 or 10%), not ${JSON.stringify(text)}`);
  };
  const batch = amount('batch');
  if (batch === 0 || batch === '0%') throw new UsageError('--batch must be at least one host');
  let maxFail = amount('max-fail');
  if (values['fail-fast'] === true) {
    if (maxFail !== undefined && maxFail !== 0) throw new UsageError('--fail-fast is --max-fail 0: give one of them');
    maxFail = 0;
  }
  const canaryText = values['canary'] as string | undefined;
  if (canaryText !== undefined && !/^\d+$/.test(canaryText)) throw new UsageError(`--canary takes a number of hosts, not ${JSON.stringify(canaryText)}`);
  const rateText = values['rate'] as string | undefined;
  const rate = rateText === undefined ? undefined : Number(rateText.replace(/\/s$/, ''));
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) throw new UsageError(`--rate takes connection starts per second (10 or 10/s), not ${JSON.stringify(rateText)}`);
  return {
    ...(batch !== undefined ? { batch } : {}),
    ...(canaryText !== undefined ? { canary: Number(canaryText) } : {}),
    ...(maxFail !== undefined ? { maxFail } : {}),
    ...(rate !== undefined ? { rate } : {}),
  };
}

/** The fleet options from parsed flags (`o`: the host options, for `--aliases`). */
export function fleetOptions(values: Values, o: HostOptions): FleetOptions {
  const targets: FanOutTarget[] = [];
  for (const pattern of (values['aliases'] as string[] | undefined) ?? []) {
    const match = rangesOf(pattern, '--aliases'); // `web[01-05]`, `web*,!web[3-4]`
    const found = o.configFile === null ? [] : sshConfigTargets({ ...configFileOf(o), systemFile: o.systemConfigFile, match, home: o.home, localUser: o.localUser, extra: o.configLines });
    if (found.length === 0) throw new UsageError(`--aliases ${pattern}: no Host alias in ${o.configFile} matches`);
    targets.push(...found);
  }
  for (const file of (values['hosts'] as string[] | undefined) ?? []) {
    let text: string;
    try {
      text = readText(file);
    } catch (err) {
      throw new UsageError(`--hosts ${file}: ${(err as Error).message}`);
    }
    try {
      targets.push(...parseHostsFile(text));
    } catch (err) {
      throw new UsageError(`--hosts ${file}: ${(err as Error).message}`);
    }
  }
  for (const spec of (values['host'] as string[] | undefined) ?? []) for (const one of spec.split(/\s+/).filter(Boolean)) for (const name of rangesOf(one, '-H')) targets.push(usageSpec(name));
  const glob = values['host-glob'] as string | undefined;
  const selected = glob ? targets.filter((t) => hostMatches(glob, t.alias ?? t.host)) : targets;
  if (selected.length === 0) throw new UsageError(glob && targets.length ? `-g ${glob}: no host matches` : 'no hosts: give -h FILE, -H [user@]host[:port] or --aliases PATTERN');
  const par = Number(values['par'] ?? '32');
  if (!Number.isInteger(par) || par < 1) throw new UsageError('-p/--par takes a positive integer');
  const workersText = values['workers'] as string | undefined;
  const workers = workersText === undefined ? undefined : workersText === 'auto' ? availableParallelism() : Number(workersText);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) throw new UsageError('--workers takes a positive integer or auto');
  return {
    targets: selected,
    par,
    timeoutSec: timeoutOf(values),
    inline: values['inline'] === true,
    inlineStdout: values['inline-stdout'] === true,
    print: values['print'] === true,
    outdir: values['outdir'] as string | undefined,
    errdir: values['errdir'] as string | undefined,
    sendInput: values['send-input'] === true,
    // --no-progress, or RXSSH_NO_PROGRESS in the environment (as pssh's PSSH_* defaults).
    noProgress: values['no-progress'] === true,
    json: values['json'] === true,
    fold: values['fold'] === true,
    ...(values['report'] !== undefined ? { report: values['report'] as string } : {}),
    rollout: rolloutOf(values),
    ...(workers !== undefined ? { workers } : {}),
  };
}

function readText(file: string): string {
  return readFileSync(file, 'utf8'); // before anything runs
}



