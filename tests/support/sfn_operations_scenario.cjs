// Every operation of wf-gateway's AWS JSON API, for the JavaScript clients:
// each answered once with success and once with an error AWS gives (a
// missing resource, a bad name or token, a conflict). The scenario is
// tests/support/sfn_operations.py's (boto3 and the AWS CLI), step for step,
// so every client tries the same calls.
//
// Used by sfn_operations.cjs (the SDK v3) and sfn_operations_v2.cjs (the
// SDK v2), which each give drive() an adapter for their call style. Prints
// one line "DRIVEN op ..." naming each operation answered both ways, then
// OK; on a failed check, FAILED and what failed, and exits 1.
"use strict";

const ROLE = "arn:aws:iam::123456789012:role/tests";
const M = "arn:aws:states:us-east-1:123456789012:stateMachine:";
const X = "arn:aws:states:us-east-1:123456789012:execution:";
const ACT = "arn:aws:states:us-east-1:123456789012:activity:";
let client;

// The client options both SDKs take alike: the gateway on `port`, with the
// access key of its configuration (the tests' GWT_KEY_ID and GWT_SECRET).
exports.connection = (port) => ({
  region: "us-east-1",
  endpoint: `http://127.0.0.1:${port}`,
  credentials: {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  },
});

function fail(what) {
  console.log(`FAILED: ${what}`);
  process.exit(1);
}

function check(cond, what) {
  if (!cond) fail(what);
}

// Operation -> {ok, error}: the answers the gateway gave.
const answered = new Map();
function note(op, how) {
  const seen = answered.get(op) || { ok: 0, error: 0 };
  seen[how]++;
  answered.set(op, seen);
}

// `op` (its Command's name less "Command") with `params`: the answer.
async function call(op, params) {
  try {
    const r = await client.send(op, params || {});
    note(op, "ok");
    return r;
  } catch (e) {
    const { name, message } = client.error(e);
    fail(`${op} ${JSON.stringify(params)}: ${name} ${message}`);
  }
}

// `op` with `params` must be refused with the error `want`.
async function refused(op, params, want) {
  try {
    const r = await client.send(op, params);
    fail(`${op} ${JSON.stringify(params)} answered ${JSON.stringify(r)}`);
  } catch (e) {
    const { status, name, message } = client.error(e);
    check(status === 400 && name === want,
          `${op} ${JSON.stringify(params)}: ${status} ${name} ` +
          `${message}, want ${want}`);
    note(op, "error");
  }
}

// DescribeExecution until the execution is no longer RUNNING.
async function ended(arn) {
  for (let i = 0; i < 500; i++) {
    const x = await call("DescribeExecution", { executionArn: arn });
    if (x.status !== "RUNNING") return x;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  fail(`${arn} did not end`);
}

const machine = (name, states, extra) =>
  call("CreateStateMachine", Object.assign({
    name, roleArn: ROLE,
    definition: JSON.stringify({ StartAt: "S", States: { S: states } }),
  }, extra || {}));

const PASS = { Type: "Pass", End: true };
const BAD = JSON.stringify({ StartAt: "Nowhere", States: {} });

async function machines() {
  const arn = (await machine("ops", PASS, {
    tags: [{ key: "team", value: "a" }],
  })).stateMachineArn;
  check(arn === `${M}ops`, `stateMachineArn ${arn}`);
  await refused("CreateStateMachine",
                { name: "ops-bad", roleArn: ROLE, definition: BAD },
                "InvalidDefinition");
  const d = await call("DescribeStateMachine", { stateMachineArn: arn });
  check(d.name === "ops" && d.status === "ACTIVE", `describe ${d.name}`);
  await refused("DescribeStateMachine", { stateMachineArn: `${M}none` },
                "StateMachineDoesNotExist");
  const l = await call("ListStateMachines", {});
  check(l.stateMachines.some((m) => m.stateMachineArn === arn), "listed");
  await refused("ListStateMachines", { nextToken: "bogus" }, "InvalidToken");
  const u = await call("UpdateStateMachine", {
    stateMachineArn: arn, publish: true,
    definition: JSON.stringify({ StartAt: "S", States: { S: {
      Type: "Pass", Result: 1, End: true } } }),
  });
  check(u.stateMachineVersionArn === `${arn}:1`, "published on update");
  await refused("UpdateStateMachine",
                { stateMachineArn: `${M}none`, roleArn: ROLE },
                "StateMachineDoesNotExist");
  let v = await call("ValidateStateMachineDefinition", {
    definition: JSON.stringify({ StartAt: "S", States: { S: PASS } }),
  });
  check(v.result === "OK", `validate ${JSON.stringify(v)}`);
  v = await call("ValidateStateMachineDefinition", { definition: BAD });
  check(v.result === "FAIL" && v.diagnostics.length > 0,
        `validate a bad one ${JSON.stringify(v)}`);
  await refused("ValidateStateMachineDefinition",
                { definition: BAD, maxResults: 101 }, "ValidationException");
  // A revision not yet published (publishing one again answers its version).
  await call("UpdateStateMachine", {
    stateMachineArn: arn,
    definition: JSON.stringify({ StartAt: "S", States: { S: {
      Type: "Pass", Result: 2, End: true } } }),
  });
  const p = await call("PublishStateMachineVersion", {
    stateMachineArn: arn, description: "second",
  });
  check(p.stateMachineVersionArn === `${arn}:2`,
        `published ${p.stateMachineVersionArn}`);
  await refused("PublishStateMachineVersion", { stateMachineArn: `${M}none` },
                "StateMachineDoesNotExist");
  const vs = await call("ListStateMachineVersions", { stateMachineArn: arn });
  check(vs.stateMachineVersions.length === 2, "two versions");
  await refused("ListStateMachineVersions", { stateMachineArn: "nope" },
                "InvalidArn");
  return arn;
}

async function aliases(arn) {
  const a = (await call("CreateStateMachineAlias", {
    name: "live",
    routingConfiguration: [
      { stateMachineVersionArn: `${arn}:1`, weight: 100 }],
  })).stateMachineAliasArn;
  check(a === `${arn}:live`, `alias ${a}`);
  await refused("CreateStateMachineAlias", {
    name: "live",
    routingConfiguration: [
      { stateMachineVersionArn: `${arn}:2`, weight: 100 }],
  }, "ConflictException");
  const d = await call("DescribeStateMachineAlias",
                       { stateMachineAliasArn: a });
  check(d.name === "live", "alias described");
  await refused("DescribeStateMachineAlias",
                { stateMachineAliasArn: `${arn}:none` }, "ResourceNotFound");
  const l = await call("ListStateMachineAliases", { stateMachineArn: arn });
  check(l.stateMachineAliases.length === 1, "alias listed");
  await refused("ListStateMachineAliases", { stateMachineArn: `${M}none` },
                "StateMachineDoesNotExist");
  await call("UpdateStateMachineAlias", {
    stateMachineAliasArn: a,
    routingConfiguration: [{ stateMachineVersionArn: `${arn}:1`, weight: 50 },
                           { stateMachineVersionArn: `${arn}:2`, weight: 50 }],
  });
  await refused("UpdateStateMachineAlias", {
    stateMachineAliasArn: `${arn}:none`, description: "x",
  }, "ResourceNotFound");
  const x = await call("StartExecution", { stateMachineArn: a, name: "via" });
  const e = await ended(x.executionArn);
  check(e.stateMachineAliasArn === a && e.status === "SUCCEEDED",
        `through the alias ${JSON.stringify(e)}`);
  await refused("DeleteStateMachineVersion",
                { stateMachineVersionArn: `${arn}:2` }, "ConflictException");
  await call("DeleteStateMachineAlias", { stateMachineAliasArn: a });
  await refused("DeleteStateMachineAlias", { stateMachineAliasArn: "nope" },
                "InvalidArn");
  await call("DeleteStateMachineVersion",
             { stateMachineVersionArn: `${arn}:2` });
}

async function tags(arn) {
  await call("TagResource", { resourceArn: arn,
                              tags: [{ key: "env", value: "dev" }] });
  await refused("TagResource", { resourceArn: `${M}none`,
                                 tags: [{ key: "k", value: "v" }] },
                "ResourceNotFound");
  await call("UntagResource", { resourceArn: arn, tagKeys: ["team"] });
  await refused("UntagResource", { resourceArn: `${M}none`, tagKeys: ["k"] },
                "ResourceNotFound");
  const t = await call("ListTagsForResource", { resourceArn: arn });
  check(JSON.stringify(t.tags) === '[{"key":"env","value":"dev"}]',
        `tags ${JSON.stringify(t.tags)}`);
  await refused("ListTagsForResource", { resourceArn: `${M}none` },
                "ResourceNotFound");
}

async function executions(arn) {
  const x = (await call("StartExecution", {
    stateMachineArn: arn, name: "one", input: '{"a":1}',
  })).executionArn;
  check(x === `${X}ops:one`, `executionArn ${x}`);
  await refused("StartExecution", { stateMachineArn: `${M}none` },
                "StateMachineDoesNotExist");
  const e = await ended(x);
  check(e.status === "SUCCEEDED" && e.output === "2", `one ${e.output}`);
  await refused("DescribeExecution", { executionArn: `${X}ops:none` },
                "ExecutionDoesNotExist");
  const l = await call("ListExecutions", { stateMachineArn: arn });
  check(l.executions.some((i) => i.executionArn === x), "execution listed");
  await refused("ListExecutions", { stateMachineArn: `${M}none` },
                "StateMachineDoesNotExist");
  const h = await call("GetExecutionHistory", { executionArn: x });
  check(h.events[0].type === "ExecutionStarted" &&
        h.events[h.events.length - 1].type === "ExecutionSucceeded",
        "history");
  await refused("GetExecutionHistory", { executionArn: `${X}ops:none` },
                "ExecutionDoesNotExist");
  const f = await call("DescribeStateMachineForExecution",
                       { executionArn: x });
  check(f.stateMachineArn === arn, "the machine of the execution");
  await refused("DescribeStateMachineForExecution",
                { executionArn: `${X}ops:none` }, "ExecutionDoesNotExist");
  const express = (await machine("ops-express", {
    Type: "Pass", Parameters: { "n.$": "States.MathAdd($.n, $.n)" }, End: true,
  }, { type: "EXPRESS" })).stateMachineArn;
  const s = await call("StartSyncExecution",
                       { stateMachineArn: express, input: '{"n":21}' });
  check(s.status === "SUCCEEDED" && s.output === '{"n":42}', "sync start");
  await refused("StartSyncExecution", { stateMachineArn: arn },
                "StateMachineTypeNotSupported");
  await refused("RedriveExecution", { executionArn: x },
                "ExecutionNotRedrivable");
  await call("DeleteStateMachine", { stateMachineArn: express });
  await refused("DeleteStateMachine", { stateMachineArn: "nope" },
                "InvalidArn");
}

// The next task of the activity: one is queued, so the poll answers at once.
async function task(activity) {
  const t = await call("GetActivityTask",
                       { activityArn: activity, workerName: "ops" });
  check(t.taskToken, `no task ${JSON.stringify(t)}`);
  return t.taskToken;
}

async function activities() {
  const act = (await call("CreateActivity", { name: "ops-act" })).activityArn;
  check(act === `${ACT}ops-act`, `activityArn ${act}`);
  await refused("CreateActivity", { name: "a b" }, "InvalidName");
  const d = await call("DescribeActivity", { activityArn: act });
  check(d.name === "ops-act", "activity described");
  await refused("DescribeActivity", { activityArn: `${ACT}none` },
                "ActivityDoesNotExist");
  const l = await call("ListActivities", {});
  check(l.activities.some((a) => a.activityArn === act), "activity listed");
  await refused("ListActivities", { nextToken: "bogus" }, "InvalidToken");
  const w = (await machine("ops-wait", {
    Type: "Task", Resource: act, HeartbeatSeconds: 60, End: true,
  })).stateMachineArn;
  const start = async (name) => (await call("StartExecution", {
    stateMachineArn: w, name, input: "{}" })).executionArn;

  // Answered with success; then the same token is spent.
  const good = await start("good");
  let token = await task(act);
  await call("SendTaskHeartbeat", { taskToken: token });
  await call("SendTaskSuccess", { taskToken: token, output: '{"y":2}' });
  check((await ended(good)).output === '{"y":2}', "answered");
  await refused("SendTaskSuccess", { taskToken: token, output: "{}" },
                "TaskTimedOut");
  await refused("SendTaskHeartbeat", { taskToken: token }, "TaskTimedOut");
  // Answered with a failure, then redriven and answered with success.
  const bad = await start("bad");
  token = await task(act);
  await call("SendTaskFailure", { taskToken: token, error: "Oops",
                                  cause: "on purpose" });
  await refused("SendTaskFailure", { taskToken: "bogus", error: "E" },
                "InvalidToken");
  let e = await ended(bad);
  check(e.status === "FAILED" && e.error === "Oops", `failed ${e.error}`);
  await call("RedriveExecution", { executionArn: bad });
  await call("SendTaskSuccess", { taskToken: await task(act), output: "{}" });
  e = await ended(bad);
  check(e.status === "SUCCEEDED" && e.redriveCount === 1,
        `redriven ${JSON.stringify(e)}`);
  // Stopped while its task is out (taken, so none stays queued).
  const stopped = await start("stopped");
  await task(act);
  await call("StopExecution", { executionArn: stopped, error: "Halt" });
  check((await ended(stopped)).status === "ABORTED", "stopped");
  await refused("StopExecution", { executionArn: `${X}ops-wait:none` },
                "ExecutionDoesNotExist");
  return act;
}

async function mapRuns(act) {
  const m = (await machine("ops-map", {
    Type: "Map", MaxConcurrency: 1,
    ItemProcessor: {
      ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
      StartAt: "T", States: { T: { Type: "Task", Resource: act, End: true } },
    },
    End: true,
  })).stateMachineArn;
  const x = (await call("StartExecution", {
    stateMachineArn: m, name: "fan", input: "[1,2]" })).executionArn;
  // A child waits for its task: the Map Run is running.
  await task(act);
  const runs = (await call("ListMapRuns", { executionArn: x })).mapRuns;
  check(runs.length === 1, `map runs ${JSON.stringify(runs)}`);
  const run = runs[0].mapRunArn;
  await refused("ListMapRuns", { executionArn: `${X}ops-map:none` },
                "ExecutionDoesNotExist");
  let d = await call("DescribeMapRun", { mapRunArn: run });
  check(d.status === "RUNNING" && d.maxConcurrency === 1,
        `map run ${JSON.stringify(d)}`);
  await refused("DescribeMapRun", { mapRunArn: `${run}0` },
                "ResourceNotFound");
  await call("UpdateMapRun", { mapRunArn: run, maxConcurrency: 2 });
  await refused("UpdateMapRun", { mapRunArn: `${run}0`, maxConcurrency: 2 },
                "ResourceNotFound");
  d = await call("DescribeMapRun", { mapRunArn: run });
  check(d.maxConcurrency === 2, `updated ${d.maxConcurrency}`);
  // A child execution's own history, newest first in pages of two, and
  // the state machine its Map Run runs.
  const kids = (await call("ListExecutions", { mapRunArn: run })).executions;
  const kid = kids[kids.length - 1].executionArn;
  let h = await call("GetExecutionHistory",
                     { executionArn: kid, reverseOrder: true, maxResults: 2 });
  const ids = h.events.map((e) => e.id);
  while (h.nextToken) {
    h = await call("GetExecutionHistory", { executionArn: kid,
      reverseOrder: true, maxResults: 2, nextToken: h.nextToken });
    ids.push(...h.events.map((e) => e.id));
  }
  check(ids.length >= 3 && ids[ids.length - 1] === 1 &&
        ids.every((id, i) => id === ids.length - i),
        `child history ${JSON.stringify(ids)}`);
  await refused("GetExecutionHistory", { executionArn: `${kid}0` },
                "ExecutionDoesNotExist");
  const km = await call("DescribeStateMachineForExecution",
                        { executionArn: kid });
  check(km.mapRunArn === run && km.label === "S" &&
        km.stateMachineArn === `${m}/S`,
        `child machine ${JSON.stringify(km)}`);
  await refused("DescribeStateMachineForExecution",
                { executionArn: `${kid}0` }, "ExecutionDoesNotExist");
  await call("StopExecution", { executionArn: x });
  check((await ended(x)).status === "ABORTED", "map stopped");
  await call("DeleteActivity", { activityArn: act });
  await refused("DeleteActivity", { activityArn: "nope" }, "InvalidArn");
  await refused("GetActivityTask", { activityArn: act },
                "ActivityDoesNotExist");
}

async function testState() {
  const r = await call("TestState", {
    definition: JSON.stringify({ Type: "Pass", Next: "After" }),
    roleArn: ROLE, input: '{"a":1}',
  });
  check(r.status === "SUCCEEDED" && r.nextState === "After", "TestState");
  await refused("TestState", { definition: '{"Type":"Pass"}', roleArn: ROLE },
                "InvalidDefinition");
}

// Drive every operation with `client`, an adapter for the SDK's call style:
//   send(op, params)  a promise of the answer to `op` ("CreateStateMachine")
//   error(e)          {status, name, message}: the HTTP status, the error's
//                     name and its message, from what send() threw
exports.drive = async (c) => {
  client = c;
  try {
    const arn = await machines();
    await aliases(arn);
    await tags(arn);
    await executions(arn);
    const act = await activities();
    await mapRuns(act);
    await testState();
  } catch (e) {
    fail(e.stack);
  }
  const both = [...answered].filter(([, s]) => s.ok && s.error);
  console.log(`DRIVEN ${both.map(([op]) => op).sort().join(" ")}`);
  console.log("OK");
};
