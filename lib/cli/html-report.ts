/**
 * `rxssh run --report FILE` and `rxssh report RUN.ndjson`: one self-contained HTML page of a
 * run — a status grid of every host (filter, search), a timeline of each host's connection and
 * command, a histogram of durations, the folded outputs, and each host's output and error on
 * click. No network access (a Content-Security-Policy forbids any), no external script or font;
 * every byte of remote output is data, shown with textContent and control characters made
 * visible, never parsed as HTML or terminal codes.
 */
import { groupResults, type HostResult, type HostStatus } from '../fleet/index.js';

/** One host as the page shows it (what `--json` writes, plus when things happened). */
export interface ReportHost {
  readonly host: string;
  readonly status: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: string | null;
  readonly attempts: number;
  readonly durationMs: number;
  /** When it started and ended (ms since the epoch), and when its connection was ready, when known. */
  readonly startedAt?: number;
  readonly readyAt?: number;
  readonly endedAt?: number;
}

/** A run's hosts from its `--json` NDJSON (result lines; others are skipped); throws naming a bad line. */
export function reportHostsFromNdjson(text: string): ReportHost[] {
  const hosts: ReportHost[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new SyntaxError(`line ${i + 1}: not JSON`);
    }
    const r = value as Record<string, unknown>;
    if (r['type'] !== 'result') return;
    const host = reportHostOf(r);
    if (!host) throw new SyntaxError(`line ${i + 1}: a result without host or status`);
    hosts.push(host);
  });
  return hosts;
}

/** One host from a result in its `--json` form (`resultJson`), or undefined without host or status. */
export function reportHostOf(r: Readonly<Record<string, unknown>>): ReportHost | undefined {
  if (typeof r['host'] !== 'string' || typeof r['status'] !== 'string') return undefined;
  const num = (k: string): number | undefined => (typeof r[k] === 'number' ? (r[k] as number) : undefined);
  const error = r['error'] as { message?: unknown } | null | undefined;
  return {
    host: r['host'],
    status: r['status'],
    exitCode: num('exitCode') ?? null,
    signal: typeof r['signal'] === 'string' ? r['signal'] : null,
    stdout: typeof r['stdout'] === 'string' ? r['stdout'] : '',
    stderr: typeof r['stderr'] === 'string' ? r['stderr'] : '',
    error: error && typeof error.message === 'string' ? error.message : null,
    attempts: num('attempts') ?? 0,
    durationMs: num('durationMs') ?? 0,
    ...(num('startedAt') !== undefined ? { startedAt: num('startedAt') as number } : {}),
    ...(num('readyAt') !== undefined ? { readyAt: num('readyAt') as number } : {}),
    ...(num('endedAt') !== undefined ? { endedAt: num('endedAt') as number } : {}),
  };
}

/** The page for a run's hosts. `title` names the run (the command). */
export function htmlReport(hosts: readonly ReportHost[], title: string): string {
  const groups = groupResults(
    hosts.map(
      (h) =>
        ({ host: h.host, status: h.status as HostStatus, exitCode: h.exitCode, signal: h.signal, stdout: h.stdout, stderr: h.stderr }) as unknown as HostResult<unknown>,
    ),
  ).map((g) => ({ folded: g.folded, count: g.hosts.length, status: g.status, exitCode: g.exitCode, stdout: g.stdout, stderr: g.stderr }));
  // JSON inside a script element: `<` escaped so that no output can close the element.
  const data = JSON.stringify({ title, generatedAt: new Date().toISOString(), hosts, groups }).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>rxssh run report</title>
<style>${STYLE}</style></head>
<body>
<header><h1>rxssh run</h1><p id="title"></p><p id="summary"></p></header>
<section><h2>Hosts</h2><div id="filters"></div><input id="search" type="search" placeholder="search hosts and output" aria-label="search">
<div id="grid" role="list"></div></section>
<section id="details" hidden><h2 id="d-host"></h2><p id="d-status"></p><h3>stdout</h3><pre id="d-stdout"></pre><h3>stderr</h3><pre id="d-stderr"></pre><h3>error</h3><pre id="d-error"></pre></section>
<section><h2>Timeline</h2><p class="legend"><span class="seg connect"></span> connect and authenticate <span class="seg command"></span> command</p><div id="timeline"></div></section>
<section><h2>Durations</h2><div id="histogram"></div></section>
<section><h2>Outputs, folded</h2><div id="groups"></div></section>
<script type="application/json" id="data">${data}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{margin:0}h2{font-size:1.1em;margin:1.4em 0 .4em}
#grid{display:flex;flex-wrap:wrap;gap:2px;margin-top:.5em}
.cell{width:14px;height:14px;border-radius:2px;cursor:pointer}
.cell[hidden]{display:none}
.ok{background:#2e9d4e}.failed{background:#d33}.timeout{background:#e6a100}.unreachable{background:#7a4ec4}
.auth-failed,.host-key-rejected{background:#b5179e}.connection-error,.lost{background:#555}.cancelled,.skipped{background:#aaa}
#filters button{margin:0 .3em .3em 0;border:1px solid #999;background:#fff;border-radius:3px;cursor:pointer}
#filters button[aria-pressed=false]{opacity:.45}
pre{background:#f5f5f5;padding:.5em;white-space:pre-wrap;word-break:break-all;max-height:20em;overflow:auto}
#timeline{position:relative;max-height:24em;overflow:auto;border:1px solid #ddd}
.row{position:relative;height:4px;margin:1px 0}.seg{position:absolute;height:4px;display:inline-block}
.legend .seg{position:static;width:1.5em;height:.7em}
.seg.connect{background:#8ab4f8}.seg.command{background:#1a73e8}
#histogram{display:flex;align-items:flex-end;height:8em;gap:2px;border-bottom:1px solid #999}
.bar{flex:1;background:#1a73e8;min-height:1px}
.group h3{font-size:1em;margin:.8em 0 .2em}
`;

const SCRIPT = `
(function(){
var data=JSON.parse(document.getElementById('data').textContent);
// Remote bytes are text: control characters (terminal escapes) are shown as \\xNN.
function visible(s){return String(s==null?'':s).replace(/[\\x00-\\x08\\x0b-\\x1f\\x7f]/g,function(c){return '\\\\x'+('0'+c.charCodeAt(0).toString(16)).slice(-2)})}
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=text;return e}
document.getElementById('title').textContent=visible(data.title);
var counts={};data.hosts.forEach(function(h){counts[h.status]=(counts[h.status]||0)+1});
document.getElementById('summary').textContent=data.hosts.length+' hosts: '+Object.keys(counts).map(function(k){return counts[k]+' '+k}).join(', ');
var shown={};Object.keys(counts).forEach(function(k){shown[k]=true});
var filters=document.getElementById('filters');
Object.keys(counts).forEach(function(k){var b=el('button',null,k+' ('+counts[k]+')');b.setAttribute('aria-pressed','true');b.dataset.status=k;
 b.onclick=function(){shown[k]=!shown[k];b.setAttribute('aria-pressed',String(shown[k]));apply()};filters.appendChild(b)});
var grid=document.getElementById('grid');var cells=[];
data.hosts.forEach(function(h,i){var c=el('div','cell '+h.status);c.title=visible(h.host)+': '+h.status;c.setAttribute('role','listitem');c.dataset.index=i;c.onclick=function(){show(h)};grid.appendChild(c);cells.push(c)});
var search=document.getElementById('search');search.oninput=apply;
function apply(){var q=search.value.toLowerCase();cells.forEach(function(c,i){var h=data.hosts[i];var hit=!q||h.host.toLowerCase().indexOf(q)>=0||h.stdout.toLowerCase().indexOf(q)>=0||h.stderr.toLowerCase().indexOf(q)>=0;c.hidden=!(shown[h.status]&&hit)})}
function show(h){var d=document.getElementById('details');d.hidden=false;
 document.getElementById('d-host').textContent=visible(h.host);
 document.getElementById('d-status').textContent=h.status+(h.exitCode!=null?' (exit '+h.exitCode+')':'')+(h.signal?' (signal '+h.signal+')':'')+', '+h.durationMs+' ms, '+h.attempts+' attempt(s)';
 document.getElementById('d-stdout').textContent=visible(h.stdout);document.getElementById('d-stderr').textContent=visible(h.stderr);document.getElementById('d-error').textContent=visible(h.error||'')}
// Timeline: each host a row, connect+auth then command, on one time axis.
var timed=data.hosts.filter(function(h){return h.startedAt&&h.endedAt});
var t0=Math.min.apply(null,timed.map(function(h){return h.startedAt}));var t1=Math.max.apply(null,timed.map(function(h){return h.endedAt}));var span=Math.max(1,t1-t0);
var tl=document.getElementById('timeline');
if(!timed.length)tl.textContent='no timings in this run';
timed.forEach(function(h){var row=el('div','row');row.title=visible(h.host);
 var ready=h.readyAt||h.startedAt;var a=el('span','seg connect');a.style.left=(100*(h.startedAt-t0)/span)+'%';a.style.width=(100*(ready-h.startedAt)/span)+'%';
 var b=el('span','seg command');b.style.left=(100*(ready-t0)/span)+'%';b.style.width=Math.max(0.2,100*(h.endedAt-ready)/span)+'%';row.appendChild(a);row.appendChild(b);tl.appendChild(row)});
// Histogram of durations, 20 buckets.
var ds=data.hosts.map(function(h){return h.durationMs});var max=Math.max.apply(null,ds.concat([1]));var buckets=new Array(20).fill(0);
ds.forEach(function(d){buckets[Math.min(19,Math.floor(20*d/max))]++});var most=Math.max.apply(null,buckets.concat([1]));
var hist=document.getElementById('histogram');buckets.forEach(function(n,i){var b=el('div','bar');b.style.height=(100*n/most)+'%';b.title=n+' host(s), '+Math.round(i*max/20)+'-'+Math.round((i+1)*max/20)+' ms';hist.appendChild(b)});
var groups=document.getElementById('groups');
data.groups.forEach(function(g){var box=el('div','group');box.appendChild(el('h3',null,visible(g.folded)+' ('+g.count+') '+g.status+(g.exitCode!=null?' exit '+g.exitCode:'')));
 box.appendChild(el('pre',null,visible(g.stdout)+(g.stderr?'\\nstderr: '+visible(g.stderr):'')));groups.appendChild(box)});
})();
`;
