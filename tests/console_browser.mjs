// wf-gateway's console in a real browser: Debian's chromium, headless,
// driven by puppeteer-core (installed into BUILD/browser by
// scripts/test-all.sh). It starts the gateway on 127.0.0.1 (an API key,
// the memory store), signs in with the form, and checks: the graph has the
// machine's states and edges; a failed execution colours its failing
// state; a start from the machine's page (JSON checked while typed) opens
// the execution, whose page follows it live until it ends; stop works; a
// click on a state opens its details; validation lists the diagnostics
// and marks the state one names; a state named
// <img src=x onerror=alert(1)> shows as text and no dialog opens.
// Screenshots go to BUILD/console-browser/.
//
//   node tests/console_browser.mjs PATH/TO/wf-gateway BUILD
//
// Exit status 77 (ctest's skip) when chromium or puppeteer-core is
// missing. Every wait is for an event or a selector, bounded.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync }
  from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [gatewayBin, build] = process.argv.slice(2);
const CHROMIUM = process.env.WF_CHROMIUM || '/usr/bin/chromium';
const KEY = 'browser-test-key';
const HOSTILE = '<img src=x onerror=alert(1)>';
const STEP_MS = 15000; // any one wait
const TOTAL_MS = 150000; // the whole test

function skip(why) {
  console.log(`console_browser: skipped: ${why}`);
  process.exit(77);
}

if (!gatewayBin || !build) {
  console.error('usage: console_browser.mjs WF_GATEWAY BUILD_DIR');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) skip(`no browser at ${CHROMIUM} (Debian: apt-get install chromium)`);
let puppeteer;
try {
  puppeteer = createRequire(resolve(build, 'browser', 'package.json'))('puppeteer-core');
} catch {
  skip(`no puppeteer-core in ${join(build, 'browser')} (npm install --prefix ${join(build, 'browser')} puppeteer-core)`);
}

const watchdog = setTimeout(() => {
  console.error(`console_browser: not done after ${TOTAL_MS / 1000} s`);
  process.exit(1);
}, TOTAL_MS);
watchdog.unref();

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'FAILED'}: ${what}`);
  if (!ok) failures++;
}

// ---- the gateway --------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'wf-console-browser-'));
writeFileSync(join(dir, 'gateway.yaml'),
  'engine: {history: "full"}\n' +
  'stateMachines: []\n' +
  `log: {path: ${join(dir, 'gateway.log')}}\n` +
  'throttle: {enabled: false}\n' +
  `auth: {apiKeys: [{name: browser, key: ${KEY}}]}\n`);

function startGateway() {
  return new Promise((resolve, reject) => {
    const child = spawn(gatewayBin, ['--config', join(dir, 'gateway.yaml'),
      '--port', '0', '--store', 'memory'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "listening on" line: ${seen}`)), STEP_MS);
    const read = (chunk) => {
      seen += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: m[1] });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => reject(new Error(`wf-gateway exited (${code}): ${seen}`)));
  });
}

async function api(base, op, body) {
  const r = await fetch(base + '/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.0',
               'X-Amz-Target': `AWSStepFunctions.${op}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_MS),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${op}: ${JSON.stringify(json)}`);
  return json;
}

const ROLE = 'arn:aws:iam::123456789012:role/browser';
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:';

async function createMachine(base, name, definition) {
  await api(base, 'CreateStateMachine',
    { name, definition: JSON.stringify(definition), roleArn: ROLE });
}

async function runToEnd(base, name, input) {
  const { executionArn } = await api(base, 'StartExecution',
    { stateMachineArn: MACHINE + name, input: JSON.stringify(input) });
  for (const deadline = Date.now() + STEP_MS; Date.now() < deadline;) {
    const d = await api(base, 'DescribeExecution', { executionArn });
    if (d.status !== 'RUNNING') return executionArn;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${executionArn} did not end`);
}

// ---- the page -----------------------------------------------------------

const shots = join(build, 'console-browser');
mkdirSync(shots, { recursive: true });

// What the graph of the page shows: each state node's name and mark, and
// the edges by the names of their ends.
function readGraph(page) {
  return page.evaluate(() => {
    const names = {};
    const states = [];
    for (const g of document.querySelectorAll('.graph g.node')) {
      const name = g.querySelector('text')?.textContent;
      names[g.querySelector('title').textContent] = name;
      if (g.classList.contains('state'))
        states.push({ name, mark: [...g.classList].find((c) => c.startsWith('mark_')),
                      fill: g.querySelector('path,polygon')?.getAttribute('fill') });
    }
    const edges = [...document.querySelectorAll('.graph g.edge')].map((g) => {
      const [from, to] = g.querySelector('title').textContent.split('->');
      return `${names[from]} -> ${names[to]}`;
    });
    return { states, edges };
  });
}

function markOf(graph, name) {
  return graph.states.find((s) => s.name === name)?.mark;
}

async function main() {
  const { child, base } = await startGateway();
  let browser;
  try {
    await createMachine(base, 'seed', JSON.parse(readFileSync(
      new URL('../examples/workflows/seed-workflow.json', import.meta.url), 'utf8')));
    await createMachine(base, 'failing', {
      StartAt: 'Prepare', States: {
        Prepare: { Type: 'Pass', Next: 'Explode' },
        Explode: { Type: 'Fail', Error: 'Boom', Cause: 'on purpose' } } });
    await createMachine(base, 'waiting', {
      StartAt: 'Wait', States: {
        Wait: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Done' },
        Done: { Type: 'Pass', End: true } } });
    await createMachine(base, 'hostile', {
      StartAt: HOSTILE, States: { [HOSTILE]: { Type: 'Pass', End: true } } });
    const failedArn = await runToEnd(base, 'failing', {});
    const hostileArn = await runToEnd(base, 'hostile', { x: '<script>alert(2)</script>' });

    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
      protocolTimeout: STEP_MS,
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_MS);
    await page.setViewport({ width: 1280, height: 900 });
    const dialogs = [];
    page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // Signing in with the form.
    await page.goto(`${base}/console/`);
    check(await page.$('form.login') !== null, 'without a session the console asks for a key');
    await page.type('input[name=key]', KEY);
    await Promise.all([page.waitForNavigation(), page.click('form.login button')]);
    check((await page.title()).startsWith('State machines'),
      `signed in, the machines are listed (${await page.title()} at ${page.url()})`);

    // The seed's graph: its six states and ten edges.
    await page.goto(`${base}/console/machines/seed`);
    const seed = await readGraph(page);
    check(seed.states.length === 6, `the seed's graph has 6 states (${seed.states.length})`);
    for (const e of ['ProcessData -> CheckStatus', 'ProcessData -> ProcessingFailed',
      'CheckStatus -> SendNotification', 'CheckStatus -> ProcessingFailed',
      'SendNotification -> WorkflowCompleted', 'SendNotification -> NotificationFailed',
      'Start -> ProcessData', 'WorkflowCompleted -> End', 'ProcessingFailed -> End',
      'NotificationFailed -> End'])
      check(seed.edges.includes(e), `the seed's graph has the edge ${e}`);
    check(seed.edges.length === 10, `the seed's graph has 10 edges (${seed.edges.length})`);
    await page.screenshot({ path: join(shots, 'machine-seed.png'), fullPage: true });

    // A failed execution: its failing state coloured as failed.
    await page.goto(`${base}/console/executions/${encodeURIComponent(failedArn)}`);
    const failed = await readGraph(page);
    check(markOf(failed, 'Explode') === 'mark_failed', 'the failing state is marked failed');
    check(failed.states.find((s) => s.name === 'Explode')?.fill === '#fbd5d8',
      'the failing state is drawn red');
    check(markOf(failed, 'Prepare') === 'mark_succeeded', 'the state before it succeeded');
    // A click on it opens its details.
    await page.click('.graph g.node.state.mark_failed');
    await page.waitForSelector('#state-panel:not([hidden]) #state-details');
    const details = await page.$eval('#state-panel', (p) => p.textContent);
    check(details.includes('Explode') && details.includes('Run 1'),
      'a click on the state shows its runs');
    await page.screenshot({ path: join(shots, 'execution-failed.png'), fullPage: true });

    // Start from the machine's page: not JSON is refused as typed; JSON
    // starts the execution, whose page follows it until it ends.
    await page.goto(`${base}/console/machines/waiting`);
    await page.$eval('#input', (t) => { t.value = ''; });
    await page.type('#input', '{"seconds": ');
    await page.waitForSelector('#start button[type=submit]:disabled');
    const problem = await page.$eval('#start .json-problem', (p) => p.textContent);
    check(problem.startsWith('Not JSON'), `an input that is not JSON is pointed out (${problem})`);
    await page.type('#input', '3}');
    await page.waitForSelector('#start button[type=submit]:not(:disabled)');
    await Promise.all([page.waitForNavigation(), page.click('#start button[type=submit]')]);
    check(page.url().includes('/console/executions/'), 'the start opens the execution');
    const status = () => page.$eval('#live', (l) => l.dataset.status);
    check(await status() === 'RUNNING', 'the execution is running');
    await page.waitForSelector('#live .graph g.node.state.mark_running');
    check(markOf(await readGraph(page), 'Wait') === 'mark_running', 'Wait is marked running');
    await page.screenshot({ path: join(shots, 'execution-running.png'), fullPage: true });
    await page.waitForFunction(
      () => document.getElementById('live').dataset.status === 'SUCCEEDED',
      { timeout: STEP_MS });
    const done = await readGraph(page);
    check(markOf(done, 'Wait') === 'mark_succeeded' && markOf(done, 'Done') === 'mark_succeeded',
      'the page followed the execution to its end without a reload');
    await page.screenshot({ path: join(shots, 'execution-succeeded.png'), fullPage: true });

    // Stop: a long wait, stopped from its page.
    await page.goto(`${base}/console/machines/waiting`);
    await page.$eval('#input', (t) => { t.value = '{"seconds": 600}'; });
    await Promise.all([page.waitForNavigation(), page.click('#start button[type=submit]')]);
    await Promise.all([page.waitForNavigation(), page.click('#stop')]);
    await page.waitForFunction(
      () => document.getElementById('live').dataset.status === 'ABORTED',
      { timeout: STEP_MS });
    check(await status() === 'ABORTED', 'stop aborts the execution');
    await page.screenshot({ path: join(shots, 'execution-stopped.png'), fullPage: true });

    // Redrive: an aborted execution may be redriven; it runs again.
    check(await page.$('#redrive:not([disabled])') !== null, 'redrive is offered');
    await Promise.all([page.waitForNavigation(), page.click('#redrive')]);
    await page.waitForFunction(
      () => document.getElementById('live').dataset.status === 'RUNNING',
      { timeout: STEP_MS });
    check(await status() === 'RUNNING', 'redrive runs the execution again');
    await page.screenshot({ path: join(shots, 'execution-redriven.png'), fullPage: true });
    await Promise.all([page.waitForNavigation(), page.click('#stop')]);
    await page.waitForFunction(
      () => document.getElementById('live').dataset.status === 'ABORTED',
      { timeout: STEP_MS });

    // Validate: each diagnostic listed, the state it names marked.
    await page.goto(`${base}/console/validate`);
    await page.$eval('#definition', (t, text) => { t.value = text; },
      JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } }));
    await Promise.all([page.waitForNavigation(), page.click('form.editor button[type=submit]')]);
    const verdict = await page.$eval('#validation-result', (p) => p.textContent);
    check(verdict.startsWith('The definition is not valid.'), `validate says why (${verdict})`);
    check(await page.$$eval('table.diagnostics tbody tr', (r) => r.length) >= 1,
      'the diagnostics are listed');
    check(markOf(await readGraph(page), 'A') === 'mark_invalid', 'the state named is marked');
    await page.screenshot({ path: join(shots, 'validate.png'), fullPage: true });

    // A hostile state name: text everywhere, no script runs.
    await page.goto(`${base}/console/machines/hostile`);
    const hostile = await readGraph(page);
    check(hostile.states.length === 1 && hostile.states[0].name === HOSTILE,
      'the hostile name is the node\'s text');
    await page.goto(`${base}/console/executions/${encodeURIComponent(hostileArn)}`);
    await page.click('.graph g.node.state');
    await page.waitForSelector('#state-panel:not([hidden]) #state-details');
    check(await page.$eval('#state-details h2', (h) => h.textContent) === HOSTILE,
      'the hostile name is the details\' heading, as text');
    check(await page.$$eval('img', (i) => i.length) === 0, 'no image element was made');
    await page.screenshot({ path: join(shots, 'execution-hostile.png'), fullPage: true });
    check(dialogs.length === 0, `no dialog opened (${dialogs.join(', ')})`);
    check(errors.length === 0, `no script error (${errors.join('; ')})`);
  } finally {
    if (browser) await browser.close();
    child.kill('SIGTERM');
  }
}

try {
  await main();
} catch (e) {
  console.error(`console_browser: ${e.stack || e}`);
  failures++;
}
rmSync(dir, { recursive: true, force: true });
console.log(`console_browser: ${failures ? `${failures} check(s) failed` : 'all passed'}; screenshots in ${shots}`);
process.exit(failures ? 1 : 0);
