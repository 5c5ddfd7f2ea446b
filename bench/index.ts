/**
 * `npm run bench`: starts its own sshd on loopback and measures rxssh side by side with raw
 * ssh2, OpenSSH's `ssh` and asyncssh in one run; writes docs/benchmarks.md and
 * docs/benchmarks.svg. Needs root (sshd). `--quick` makes every part smaller.
 *
 *   npm run bench                # everything
 *   npm run bench -- --only=bulk # one part: bulk, connect, channels, memory
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bulk } from './bulk.js';
import { bastionBench } from './bastion.js';
import { fleetOpsBench } from './fleetops.js';
import { FANOUT_ADDRESSES, fanOutBench } from './fanout.js';
import { fanOutInstructionsBench } from './fanout-instructions.js';
import { sftpBench } from './sftp.js';
import { scaleBench } from './scale.js';
import { bulkProcessBench } from './bulk-process.js';
import { bulkInstructionsBench } from './bulk-instructions.js';
import { manyChannels } from './channels.js';
import { connectLatency } from './connect.js';
import { memoryPart } from './memory.js';
import { startupBench } from './startup.js';
import { fmt, log, machine, withSshd, type Ratio, type Row, type SshdInfo } from './lib.js';
import { svg } from './plot.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = values.quick ?? false;
const only = values.only;
const want = (part: string): boolean => only === undefined || only.split(',').includes(part);

const rows: Row[] = [];
const ratios: Ratio[] = [];
const started = new Date();

type Part = (s: SshdInfo) => Promise<{ rows: Row[]; ratios: Ratio[] }>;
const PARTS: Record<string, Part> = {
  bulk: (s) => bulk(s, quick ? 1 : 7),
  bulkcpu: (s) => bulkProcessBench(s, quick ? 1 : 8),
  instructions: async (s) => {
    const bulkCounts = await bulkInstructionsBench(s, quick ? 1 : 2);
    const fanOutCounts = fanOutInstructionsBench(s, quick ? 1 : 2);
    return { rows: [...bulkCounts.rows, ...fanOutCounts.rows], ratios: [...bulkCounts.ratios, ...fanOutCounts.ratios] };
  },
  connect: (s) => connectLatency(s, quick ? 10 : 50),
  channels: (s) => manyChannels(s, quick ? 200 : 1000, quick ? 1 : 3),
  fanout: (s) => fanOutBench(s, quick ? [100] : [100, 500, 1000], quick ? 1 : 5),
  sftp: (s) => sftpBench(s, quick ? 1 : 5),
  memory: (s) => memoryPart(s, quick ? 200 : 1000, quick ? 256 * 2 ** 20 : 2 ** 30),
  startup: (s) => startupBench(s, quick ? 5 : 21),
  fleetops: (s) => fleetOpsBench(s, quick ? 1 : 3),
  bastion: (s) => bastionBench(s, quick ? 100 : 300, quick ? 1 : 5),
  scale: (s) => scaleBench(s, quick ? [200] : [300, 1000], quick ? 1 : 3),
};

await withSshd(['MaxSessions 10', 'MaxStartups 200:30:400', ...FANOUT_ADDRESSES.map((a) => `ListenAddress ${a}:{port}`)], async (s) => {
  for (const [name, part] of Object.entries(PARTS)) {
    if (!want(name)) continue;
    const r = await part(s);
    rows.push(...r.rows);
    ratios.push(...r.ratios);
  }
});

// Parts run separately (npm run bench:bulk …) are merged with the stored figures of the others.
const store = new URL('../docs/benchmarks.json', import.meta.url);
interface Stored {
  readonly date: string;
  readonly command: string;
  readonly machine: string;
  readonly rows: Row[];
  readonly ratios: Ratio[];
}
const previous: Record<string, Stored> = existsSync(store) ? (JSON.parse(readFileSync(store, 'utf8')) as Record<string, Stored>) : {};
const command = `npm run bench${only ? ` -- --only=${only}` : ''}${quick ? ' --quick' : ''}`;
const here = machine();
const parts: Record<string, Stored> = { ...previous };
for (const part of new Set(rows.map((r) => r.part))) {
  parts[part] = {
    date: started.toISOString().slice(0, 10),
    command,
    machine: here,
    rows: rows.filter((r) => r.part === part),
    ratios: ratios.filter((r) => r.part === part),
  };
}
writeFileSync(store, `${JSON.stringify(parts, null, 1)}\n`);
rows.splice(0, rows.length, ...Object.values(parts).flatMap((p) => p.rows));
ratios.splice(0, ratios.length, ...Object.values(parts).flatMap((p) => p.ratios));
const provenance = Object.entries(parts)
  .map(([part, p]) => `- ${part}: \`${p.command}\` on ${p.date}`)
  .join('\n');

const table = (part: string): string => {
  const rs = rows.filter((r) => r.part === part);
  if (rs.length === 0) return '_not run_\n';
  return [
    '| case | client | median | runs | note |',
    '|---|---|---:|---|---|',
    ...rs.map((r) => {
      const runs = r.runs.length > 7 ? `n=${r.runs.length}, ${fmt(Math.min(...r.runs), 0)}–${fmt(Math.max(...r.runs), 0)}` : r.runs.map((x) => fmt(x, 0)).join(', ');
      return `| ${r.case} | ${r.client} | ${fmt(r.median)} ${r.unit} | ${runs} | ${r.note ?? ''} |`;
    }),
    '',
  ].join('\n');
};
const goals = [
  '| part | ratio | value | goal | met |',
  '|---|---|---:|---|---|',
  ...ratios.map((r) => `| ${r.part} | ${r.what} | ${fmt(r.value, 2)} | ${r.goal} | ${r.met ? 'yes' : '**no**'} |`),
  '',
].join('\n');

const md = `# Benchmarks

Written by \`npm run bench\`. Each part starts its own sshd (on a loopback port,
\`MaxSessions 10\`) and runs the clients side by side in one run; figures are medians of the
repetitions listed. Lower is better everywhere except MiB/s.

Machine: ${here}.

Where the figures come from:
${provenance}

## Ratios and goals

${goals}
## 1. Bulk exec (256 MiB through \`cat\`, upload only, download only)

rxssh writes its stdin from an async generator (pulled with backpressure) and reads its output
with a plain subscription (\`rxssh\`, the ratios) or with \`for await\` (real demand); raw ssh2
writes with \`write()\`/\`'drain'\` and reads \`'data'\` events; \`ssh\` reads a file of the same
bytes (\`ssh … < file | wc -c\`). The clients take turns rep by rep.

${table('bulk')}
Where the time goes (one-off measurements, 2026-11-29, same machine): during an \`ssh\` round trip
of 256 MiB (~0.9 s wall) the \`ssh\` client used ~0.4 s CPU, the sshd session ~0.5–0.57 s and
\`cat\` ~0.07 s (sampled from /proc): no process is CPU-bound, the three are coupled through
pipes and 2 MiB channel windows. Raw ssh2 used ~0.45 s CPU for a ~0.7 s round trip. Tried and
not taken: a larger receive window (rxssh can widen ssh2's fixed 2 MiB through its window
adjustments): 5 repetitions each, round trip median 1101 ms at 2 MiB, 1060 at 4, 1025 at 8,
1045 at 16; download 494 ms at 2 MiB, 474 at 4, 621 at 8 and ~1870 at 16 MiB. Advertising
a larger maximum packet (128 or 255 KiB instead of 32 KiB) changed nothing measurable.

Why rxssh does not reach 0.87× \`ssh\` on the round trip (2026-11-29, 256 MiB, aes128-gcm, four
alternating runs each; client CPU from \`process.cpuUsage\` or \`/usr/bin/time\`, everything else
from /proc/stat): rxssh 930–980 ms wall with 810–870 ms of client CPU; raw ssh2 805–1050 ms
with 600–830 ms; \`ssh\` 880–980 ms with 510–550 ms, although its wall time includes its ~200 ms
sntrup761 connect. The Node clients are nearly CPU-bound and \`ssh\` is not. \`perf\` and
\`--trace-gc\` show where a Node client's CPU goes, nearly all of it below rxssh: 25–30 full
mark-compacts per round trip on a 10 MB heap, started by external memory (ssh2 allocates a
fresh Buffer for every outgoing 32 KiB packet and Node one for every 64 KiB socket read, 512 MiB
per round trip); AES-GCM itself; a \`randomFillSync\` call for each packet's padding; page faults
on the fresh buffers; the kernel's loopback copies. rxssh's own frames stay under 50 ms per run,
and its time stays within run-to-run noise of raw ssh2's. Corking the socket so that a tick's
packets leave in one \`writev\` changed nothing measurable; nor did, in an experiment on a patched
copy of ssh2, reusing its outgoing packet buffers and taking the padding from a pooled CSPRNG
buffer (client CPU 3–5 % lower, wall time the same, four runs each). Reaching the goal would take a
client that spends about a third less CPU per byte than ssh2's packet layer does.

### Whole processes, with CPU

The same three transfers with each client as its own process (\`bench/bulk-rxssh.mjs\` on
the compiled library; \`bench/bulk-ssh2.mjs\`, a plain process that loads ssh2 and Node's
built-ins only, no rxjs and nothing of rxssh's; \`ssh\` reading a page-cached file and writing to /dev/null),
aes128-gcm pinned, the clients alternating run by run: wall time around the process and CPU
(user + sys) from GNU time; start-up included for every client. The Node clients also report
their CPU from the moment every module has loaded (\`process.cpuUsage\`), which leaves out
Node's start-up and module loading: on this machine (2026-12-01, five runs each) bare \`node\`
took ~70 ms CPU to start, loading ssh2 ~50 ms more, rxjs (rxssh's peer dependency, which a
user's own program loads anyway) ~90 ms and rxssh's own modules ~85 ms. Raw ssh2 runs twice
per round under two names (\`ssh2\` and \`ssh2 (again)\`): the ratio of the two, printed as the
noise floor beside the ratios above, is how far apart the same client comes out on this
machine (0.93–1.09 on 2026-12-01; single runs of one client spread by up to ±30 %).

Until 2026-12-07 the raw-ssh2 process imported rxjs and rxssh too (one script for both
clients), which made it cost what rxssh costs and hid the gap: rxssh was 0.93–1.03× "raw
ssh2" in CPU. Against a plain ssh2 process it is 1.5–1.8× (2026-12-07, before the change
below). Where it goes, measured with \`--trace-gc\` and by preloading modules into the plain
ssh2 client (\`node --import ./dist/X.js bench/bulk-ssh2.mjs\`, five runs each, round trip,
in-process CPU): plain ssh2 341–366 ms with no mark-compact at all; the same client with
\`dist/index.js\` merely loaded 511–688 ms with ~20 mark-compacts ("GC in old space requested",
incremental marking running through most of the transfer); with \`dist/transport/connect.js\`
loaded (what a connection needs) no change; with rxjs loaded no change. The cost is not
rxssh's data path but V8's heap limits: a start-up that ends above ~8 MB of old space (ssh2
5.0 MB, + rxjs 6.7, + rxssh 8.2) gets one early mark-compact, after which V8 sizes the old
generation's limit tightly and every MiB the transfer promotes triggers another. Any program
whose own modules take its heap past that point pays it with raw ssh2 as well. What was done:
the published JavaScript is emitted without comments (the \`.d.ts\` keep them; 571 → 399 KB of
source) and its strings in ASCII (one non-Latin-1 character makes V8 keep a module's whole
source as two-byte), which took the loaded-only client to 407–478 ms; then bundled with esbuild
(one file per entry point and worker script, shared chunks; \`scripts/build.mjs\`): 88 module
records become 17 files, importing rxssh after rxjs costs ~12 ms of CPU instead of ~27, and the
heap after the import is 7.3 MB instead of 7.8 (loaded-only client 377–446 ms that day).

What the threshold is (2026-12-07, later; a throwaway sshd on loopback, \`node --trace-gc
[--trace-incremental-marking] bench/bulk-*.mjs roundtrip …\`, one or two runs per line): the
loaded-only client came out at 713 and 737 ms of in-process CPU, 17–20 mark-compacts, against
461 and 472 ms and none for plain ssh2, so the bundling alone did not hold. Every collection
starts as "allocation limit" with 27–29 MB of slack left: V8 counts the external memory
allocated since the last mark-compact (a fresh Buffer per packet, ~30 MB between two
scavenges) against the old generation's limit, and the limit it sets after its first
mark-compact, sized from the heap after start-up, is crossed every few dozen MiB. Where the
edge lies: plain ssh2 with rxjs loaded, 1 mark-compact; with rxjs and 0.5 MB of a test module's
own objects, 2; with 1, 1.5, 2 or 3 MB, 9–20 (CPU 585–695 ms); rxssh's modules add 1.1 MB.
Two V8 settings remove it. \`--initial-old-space-size=N\` fixes the first limit instead of
sizing it from start-up: N = 8 or 16 gave the rxssh client 20–23 mark-compacts, 32 gave 15,
**64 none (472–476 ms, the plain ssh2 client's figure)**; it works only on node's command line
(\`v8.setFlagsFromString\` is too late, \`NODE_OPTIONS\` refuses it). \`--heap-growing-percent=400\`
(a growing factor of 5 after each mark-compact; V8 picks 1.1–4 itself) works when set at run
time: 2 mark-compacts, 426–458 ms (300 still gave 16–17). Any V8 flag set before Node has
compiled its built-in modules costs start-up their code cache: \`rxssh --help\` 58 → 67 ms and
\`rxssh exec host true\` +11 ms with either flag from the start (25 alternating runs each).
So the library sets nothing (a program's V8 flags are its own; the guide says which to take),
the table runs both Node clients once more under \`--initial-old-space-size=64\`, and the \`rxssh\`
CLI sets the growing factor once its first connection is ready (\`lib/cli/heap.ts\`), when the
built-ins are compiled: \`rxssh exec host true\` 270 ms before and 271 after (medians of 25
alternating runs), \`rxssh exec\` of 256 MiB (\`/usr/bin/time\`, two runs each, stdin from a
page-cached file, stdout to /dev/null) round trip 1.36–1.37 → 0.98–1.01 s wall and 1.41–1.43 →
0.76–0.80 s CPU, upload 0.95–1.08 → 0.74–0.79 s and 0.94–1.11 → 0.63–0.64 s, download 0.70–0.75
→ 0.63–0.65 s and 0.55–0.61 → 0.44–0.46 s, peak RSS unchanged (100–108 MiB); \`rxssh run\` on
200 targets, CPU and RSS unchanged. The "rxssh CLI" rows below are the CLI as it ships.
Not done: keeping the library's heap below the edge by itself (loading the ssh_config layer on
demand would need synchronous exports to become asynchronous, and a program's own modules
would cross it anyway).

Later the same day, the bundled build turned out to have brought two-byte sources back: esbuild
keeps the doc comments inside classes, and three chunks held a dash or an ellipsis in one, so V8
kept ~250 KB of source in ~500 KB (heap after the import 7.84 MB). The build now escapes the
non-ASCII characters left (the package spec checks that every shipped .js file is ASCII): 7.58
MB, a 256 MiB download 10–11 → 7–8 mark-compacts, a round trip 24 → 17–19; the library rows of
this table 885 / 540 / 495 → 805 / 445 / 425 ms of CPU (round trip / upload / download). Where
the edge lies, with a plain ssh2 client holding objects of its own (\`--trace-gc\`, download,
three runs each): 0.6 MB of them, 1 mark-compact; 0.8 MB, 6; 1.2 MB, 10–12; 2 MB, 5–7; 5 MB,
1–2; 10 and 20 MB, 1. It is a band, not a slope: an old generation of about 8–11 MB after
start-up gets a limit (about 4× that) which the transfer's external memory crosses every few
dozen MiB, and a larger heap a limit it does not cross. A bare benchmark process sits in the
band; a program with state of its own is past it. The rows "in a program holding 8 MB" run both
Node clients with 8 MB of plain objects made first (\`BULK_APP_MB\`, bench/bulk-common.mjs):
both get one mark-compact, and what is left is rxssh's own cost: CPU 1.17 / 1.23 / 1.24× whole
process, 1.13 / 1.17 / 1.15× in-process (loading rxjs and rxssh is ~45 ms of the difference),
wall 1.01 / 0.98 / 0.96×.

Counted in instructions on the main thread (\`--single-threaded\`, below), the data path is not
where the CPU goes: against the plain ssh2 process rxssh runs 0.97× its instructions per MiB on
the round trip, 1.04× on upload and 0.76× on download (2026-12-07). The CPU time that remains
is V8's garbage collector on its helper threads (concurrent marking and sweeping, counted by
\`process.cpuUsage\` and GNU time for the whole process) after the early mark-compact described
above, which is why the wall-time ratios (1.10–1.18 across the runs of 2026-12-07) stay well below the CPU ratios.

${table('bulkcpu')}
### Counted in instructions

\`npm run bench:instructions\`: CPU time on this machine cannot resolve a 10 % difference (see
the noise floor), so the same clients are also counted in instructions, which repeat more
closely (one client's counts spread by 1–7 % over a day's runs, against ±30 % for CPU time): each client as a whole process under
\`valgrind --tool=callgrind --smc-check=all-non-file node --single-threaded bench/bulk-rxssh.mjs … (and bench/bulk-ssh2.mjs)\`
(the collector on the main thread, so that it is counted too), once with \`BULK_MIB=8\` and once
with \`BULK_MIB=64\`; the difference, per MiB, leaves out start-up, module loading and the
connection's set-up. Kernel work (the socket copies) is counted on neither side. The fan-out
(\`bench/fanout-instructions.ts\`) is counted the same way per host: \`bench/fanout-client.mjs\`
(\`exec true\`, 4 hosts at once) for 120 hosts minus 20, over 100 hosts.

${table('instructions')}
The fan-out counted across the redesign of 2026-12-01/02 (the compiled library of the commit
before it, 3ccd914, beside today's, same sshd, runs alternating, 2026-12-02): 17.35 and
17.05 M instructions per host before, 18.10 and 17.95 after, raw ssh2 22.12 and 22.01; a
second pair of runs, 17.6 before and 17.8 after. The redesign costs at most a few per cent
per host in instructions, where CPU time (per-host medians 5.2 before against 6.3 after at
500 hosts, 7.1 against 7.2 at 100, six runs each with single runs from 4.7 to 9.0 ms) could
not tell.

What the counts found (2026-12-01). Before, per 56 MiB of round trip, raw ssh2 took 0.740 and
0.795 G instructions and rxssh 0.850 and 0.863 G (1.07–1.17×). By function
(\`callgrind_annotate\`, 64 MiB), rxssh's extra was mostly 30 M instructions of \`memcpy\` under
Node's \`EmitToJSStreamListener::OnStreamRead\` and 21 M of \`memset\` under \`calloc\`: Node reads
every chunk into a fresh 64 KiB buffer and copies a read that comes up short into a buffer of
its own size, and rxssh's reads come up short more often than raw ssh2's because rxssh turns
Nagle off (\`setNoDelay\`, without which each request/response waits ~40 ms for a delayed ACK;
with Nagle left on, as an experiment, those copies vanished). Since then a connection's socket
reads land in consecutive slices of slabs of its own (Node's \`onread\`,
\`lib/transport/socket-reads.ts\`): no allocation per read and no copy of a short one. A
connection holds a 4 KiB slab while its traffic is light and 256 KiB ones while data streams
in; after a small read it goes back to a small slab, so that an idle connection does not keep
a large one. Tried (2026-12-01): 16 KiB small slabs, with idle connections at 63.5 KiB RSS
each; 4/64 KiB, 13.9 M instructions per MiB of round trip (as many reads as Node's own
buffers); 4/120 KiB (below glibc's mmap threshold), 12.7 and 14.2 M. Memory, for comparison,
measured the same day without slabs: 54.3 KiB RSS per idle connection (51.6 with them, below)
and 36.1 MiB of growth for the slow consumer of 1 GiB, a figure that varied from 6.8 to
36.1 MiB between that day's runs with and without slabs.

## 2. Connect latency (connect + auth + \`exec true\` + close)

${table('connect')}
## 3. Many channels over one connection

${table('channels')}
## 4. Memory

${table('memory')}
## 5. SFTP (256 MiB)

rxssh sizes its requests to what the server announces (\`limits@openssh.com\`: 16 requests of
255 KiB in flight against OpenSSH; short-read safe); ssh2's \`fastGet\`/\`fastPut\` use 64 × 32 KiB;
OpenSSH's \`sftp\` (batch mode) and \`scp\` (SFTP protocol since OpenSSH 9) run as processes.
The clients take turns, each repetition starting with a different one; every run is
hash-checked. The two libraries are timed in-process (wall and CPU around the transfer, Node's
start-up excluded: the goal's figure); rxssh also runs as a whole process (\`rxssh put\`/\`get\`,
the compiled CLI, host key checked), measured as \`sftp\` and \`scp\` are: wall time around
the process and CPU (user + sys, with the \`ssh\` child) from GNU time. In-process CPU is the
whole process's (every thread, file I/O included) during the transfer.
(Before the request sizing, rxssh used 64 × 32 KiB and took 1.14× / 1.11×
OpenSSH sftp's time for upload / download.)

Downloads write each answer at its own offset as it arrives and uploads read each request's
bytes at their offset, from a fixed set of reused buffers. Before that change (2026-11-29)
rxssh allocated a fresh buffer per request and went through ordered file streams: download
0.95–1.11× OpenSSH sftp over four runs, with its client CPU (700–1180 ms per 256 MiB, about
200 ms of it GC in a profile) above sftp's 580–800 ms. With the buffers reused, GC fell to
about 100 ms per download and the client CPU to 630–800 ms; sshd spends less than for
\`sftp\` (300–400 ms against 500–640 ms) because it answers 255 KiB requests rather than 32 KiB
ones.

Uploads put each WRITE request's header in front of the bytes read from the file, in the
pool's own buffer, and send it through ssh2's window-bounded path; until 2026-12-02 ssh2's
\`write()\` allocated a buffer per request and copied the bytes into it. That copy was a
256 MiB allocation per 256 MiB uploaded, and it drove V8's collections (one CPU profile of
five uploads each, before → after: GC 185 → 130 ms per upload; client CPU 760 → 630 ms per
upload, four uploads in a row each). Upload before: 1.02–1.24× OpenSSH sftp's time in three runs on
2026-12-01; after: 0.79–0.98× in three runs on 2026-12-02, 0.82× in the run below.

${table('sftp')}
## 6. Fan-out (\`exec true\` on many hosts)

Every client runs in its own process (the Node ones on the compiled library in \`dist/\`) with 32 hosts in flight against one sshd listening on 15
loopback addresses; CPU is user + sys of the client process and the children it waited for
(pssh's \`ssh\` processes), peak RSS sums the whole process tree (the highest of the runs). Five
repetitions per size, each starting with a different client; medians. No client verifies host keys
here (the others cannot be given the same policy cheaply).

${table('fanout')}
The run above (2026-12-02) found every client slower than the runs of 2026-11-29 and 12-01 on
the same machine: the Node and Python clients by about 1.5× (rxssh 2.3 s whole-process for 100
hosts against 1.5 s), pssh, which spends 78 ms of CPU per host in its \`ssh\` processes, by
1.24×. That moved the 100-host ratio against pssh from 0.28 to 0.34. The library from before
the redesign (commit 3ccd914), run beside today's in the same minutes against the same sshd
(six runs each, alternating), took 2546 ms whole-process wall for 100 hosts against today's
2409 ms; per host in instructions see "Counted in instructions" above.

What decided the wall time: it is bound by sshd on two cores, so what the server spends per
host matters more than the client's own CPU. Measured on 2026-11-29 (300 hosts, two runs each;
the whole machine's CPU from /proc/stat minus the client's), sshd and the remote commands spent
24.0–26.3 ms per host with rxssh and the raw ssh2 pool but 20.9–21.9 ms with asyncssh. ssh2's
debug log showed why: after every login it answers sshd's \`hostkeys-00@openssh.com\` with a
\`hostkeys-prove-00@openssh.com\` request, so sshd signs with each of its host keys (RSA
included) and the client verifies each signature. rxssh now declines (it never used the result;
OpenSSH's client asks only when \`UpdateHostKeys\` has keys to learn) and answers with an
SSH_MSG_IGNORE: saying nothing at all cost ~40 ms per connection, because sshd's next small
packets then waited for the client's delayed ACK (connect median 79 ms silent, 45 ms with the
proofs, 40 ms with the IGNORE; 20 alternating runs). rxssh also signs its public-key request at
once instead of asking first whether the key would do (one round trip and one
\`authorized_keys\` lookup less per connection; connect median 38 → 28 ms). The raw ssh2 column
keeps ssh2's defaults.

\`rxssh (2 worker threads)\` is \`fanOutInWorkers\` with two threads and the same pipeline in a
module (\`bench/fanout-pipeline.mjs\`). On this machine it is slower than one thread: sshd and
the client share the two cores and sshd is the slower side, so a second client thread has no
idle core to use, while the workers add CPU of their own (a second copy of the library loaded
per thread, every value cloned across a MessagePort, one more event loop). It is for a runner
whose client CPU is the bottleneck: more cores than the servers it talks to make busy.

## 7. CLI start-up (whole processes)

\`rxssh\` as installed (the built \`dist/cli/bin.js\`) beside bare \`node\`, \`node\` loading ssh2
alone and \`parallel-ssh\`; wall time measured around each process, CPU (user + sys) from
\`/usr/bin/time\`. The cases take turns in rotating order. \`--help\` and \`--version\` load only
the CLI's entry module; \`run\` loads its own code, ssh2 and rxjs when it runs, the progress
bar only on a terminal and the SOCKS server only for dynamic forwarding. "rxssh run" goes to a
refused loopback port, so it measures what a run loads, not the network. rxjs, the peer
dependency every rxssh program loads, costs ~29 ms in Node (its CommonJS build, ~250 modules,
is what Node's \`require\` and \`import\` both resolve to): what rxssh adds beyond ssh2 and rxjs
is the rest. Since 2026-12-07 the bin is a build of its own with the parts of rxjs it uses
bundled in from rxjs's ES module build (\`scripts/build.mjs\`; the library still imports rxjs):
\`rxssh exec\` to a refused port 153 → 115 ms, \`rxssh exec host true\` 267 → 223 ms against
\`ssh\`'s 261 (medians of 20 and 30 alternating runs, the build before and after), \`--help\`
unchanged (59 ms); the package grows from 264 to 378 kB packed.

${table('startup')}
## 8. Scale-out: one process, worker threads, the queue

The same \`rxssh run -- true\` on the same hosts (sshd on 15 loopback addresses), 32 hosts at
once in every mode, on the compiled CLI: in one process (\`-p 32\`), with \`--workers 2\`, and
with \`--queue\` through a throwaway redis-server to two \`rxssh worker --concurrency 16\`
processes. The workers are started before the runs, as a deployment keeps them running, so their
start-up is not counted; their CPU during each run is (from /proc/PID/stat), and so is
redis-server's. Client CPU per host is the run process plus, in queue mode, the workers. The
modes take turns, each repetition starting with a different one.

${table('scale')}
Reading the projections ("paper" in the ratios table): a runner is bound by its client CPU when
its servers are elsewhere, so one 16-core runner does about 16 × 1000 / (client ms per host)
hosts a second, if the network and the servers keep up; N runners do N times that until the one
Redis is the limit, which the redis-server CPU per host bounds (Redis runs commands on one
thread). Both are derived from the figures above, not measured on such machines. Where the
Redis bound comes close to one runner's figure, more runners need more Redis too: one queue
(\`--queue-name\`) per Redis, the hosts split between the runs. On this
2-core machine sshd shares the cores with the clients, so none of the three modes can be faster
in wall time than sshd lets it be; the CPU columns are what moves to other cores or machines.

## 9. Targets behind a bastion (ProxyJump)

N targets behind one bastion: a second sshd with stock \`MaxStartups 10:30:100\` and the
target sshd behind it, every target an ssh_config alias with \`ProxyJump bastion\`, 50 at once.
Each client is a whole process on the compiled library (pssh runs \`ssh -F CONFIG\`, so OpenSSH
builds its own \`-J\` chain per target); the runs alternate, each repetition starting with
another client. "shared hop" is \`connectAlias\` as it is (the default hop pool: one bastion
connection, every target a \`direct-tcpip\` channel on it); "chain per target" is the same
program with \`hopPool: null\`, which is what \`connectAlias\` did before: one bastion login per
target. Both retry a refused connection up to 8 times (100 ms apart), so the chains finish
despite the drops; logins and drops are counted in the bastion's log, one figure per run.

${table('bastion')}
Why the wall ratio sits at about 0.5 and not below (2026-12-07): both modes are bound by the
target sshd's per-connection CPU (fork, re-exec, key exchange, authentication, the session) on
these two cores; the chain mode pays the same once more at the bastion, and its drops. The
"sshd CPU" figures (each sshd listener's own and reaped children's CPU from \`/proc/PID/stat\`,
read before and 0.5 s after each run) show it: per target, the shared hop costs ~16 ms of
target sshd, ~0.1 ms of bastion (it only relays) and ~7 ms of client; the chain costs ~17, ~17
and ~14 ms. CPU in total comes to 0.48–0.50 of the chain's, and the wall time follows it (the
machine is 70–75 % busy in both modes; sampling the target sshd's children every 50 ms shows
40–60 connections in flight most of the time in shared mode, so the hop does not serialize
them). Anything that makes the client or sshd cheaper per connection shrinks both modes alike.
Across runs that day the ratio came out 0.50, 0.51, 0.52 and 0.56 (whole process). Things
tried that did not move it: the same run on the previous day's dist and that day's, alternating
(shared mode 4034–4679 ms against 4067–4689 ms); two or four hop connections instead of one
(\`HopPool\` channel bound 25 or 13: 4480–4746 ms). On separate machines the chain's extra
cost lands on the one bastion (300 logins there) while the targets' is spread over theirs, which
this two-core machine cannot show.

## 10. Fleet operations beside Ansible and ClusterShell

The same 100 hosts (names h001–h100 in one ssh_config over the sshd's loopback addresses; an
Ansible inventory with the same names and addresses), 32 at once everywhere, each tool a whole
process, the runs alternating: identical outputs folded (\`rxssh run --fold\`, \`clush -b\`,
\`ansible -m command -o\`), \`id -un\` as root through sudo with a password (\`rxssh run --sudo
--become-password-env\`, \`ansible -b --become-password-file\`; clush has no become), and a
rollout in waves of 25 % with a 10 % failure budget (\`rxssh run --batch 25% --max-fail 10%\`, a
playbook with \`serial\` and \`max_fail_percentage\`; the 7 hosts on one address fail, within
both budgets). CPU is the process's and its children's (GNU time): Ansible's and clush's ssh
processes are children, rxssh's connections are in its own process. Debian's ansible-core 2.14
and clustershell 1.9.

${table('fleetops')}
![throughput and latency](benchmarks.svg)

Commands: \`npm run bench\` (all parts; needs root for sshd and Debian's \`python3-asyncssh\` for
the asyncssh column), \`npm run bench -- --only=bulk\` (one part), \`--quick\` (smaller sizes).
`;
writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), md);
writeFileSync(new URL('../docs/benchmarks.svg', import.meta.url), svg(rows));
log('wrote docs/benchmarks.md and docs/benchmarks.svg');
for (const r of ratios) log(`${r.part}: ${r.what} = ${fmt(r.value, 2)} (goal ${r.goal}) ${r.met ? 'met' : 'NOT met'}`);
