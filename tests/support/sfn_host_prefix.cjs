// StartSyncExecution and TestState through wf-gateway with the AWS SDK for
// JavaScript v3 (@aws-sdk/client-sfn), which sends both to the endpoint's
// host with "sync-" in front. Two ways past it:
//
//   no-prefix  endpoint http://127.0.0.1:PORT, disableHostPrefix: true
//   localhost  endpoint http://sfn.localhost:PORT, default settings (the
//              resolver maps *.localhost to loopback: libnss-myhostname)
//
// Run by tests/test_gateway_clients.c with NODE_PATH naming the
// node_modules that holds the SDK: node sfn_host_prefix.cjs PORT MODE.
// Prints OK and exits 0 when every check holds; otherwise the failed check.
"use strict";
const sdk = require("@aws-sdk/client-sfn");

const [port, mode] = process.argv.slice(2);
const role = "arn:aws:iam::123456789012:role/tests";
const host = mode === "localhost" ? "sfn.localhost" : "127.0.0.1";
const sfn = new sdk.SFNClient({
  region: "us-east-1",
  endpoint: `http://${host}:${port}`,
  credentials: {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  },
  disableHostPrefix: mode === "no-prefix",
});

function fail(what) {
  console.log(`FAILED (${mode}): ${what}`);
  process.exit(1);
}

// The answer, or {errorName, httpStatus} when the gateway answered an error;
// a request that never reached it fails the run.
async function send(command) {
  try {
    return await sfn.send(command);
  } catch (e) {
    const status = e.$metadata && e.$metadata.httpStatusCode;
    if (!status) fail(`${command.constructor.name}: ${e.name} ${e.message}`);
    return { errorName: e.name, httpStatus: status };
  }
}

async function machine(name, type, state) {
  const r = await send(new sdk.CreateStateMachineCommand({
    name: `${name}-js-${mode}`, roleArn: role, type,
    definition: JSON.stringify({ StartAt: "S", States: { S: state } }),
  }));
  if (!r.stateMachineArn) fail(`create ${name}: ${JSON.stringify(r)}`);
  return r.stateMachineArn;
}

const sync = (arn, input) =>
  send(new sdk.StartSyncExecutionCommand({ stateMachineArn: arn, input }));

(async () => {
  const double = await machine("double", "EXPRESS", {
    Type: "Pass", Parameters: { "n.$": "States.MathAdd($.n, $.n)" },
    End: true,
  });
  let r = await sync(double, '{"n": 21}');
  if (r.status !== "SUCCEEDED" || JSON.parse(r.output).n !== 42)
    fail(`double: ${JSON.stringify(r)}`);

  const boom = await machine("boom", "EXPRESS", {
    Type: "Fail", Error: "Boom", Cause: "it broke",
  });
  r = await sync(boom, "{}");
  if (r.status !== "FAILED" || r.error !== "Boom" || r.cause !== "it broke")
    fail(`boom: ${JSON.stringify(r)}`);

  const standard = await machine("standard", "STANDARD", {
    Type: "Pass", End: true,
  });
  r = await sync(standard, "{}");
  if (r.errorName !== "StateMachineTypeNotSupported")
    fail(`a STANDARD machine: ${JSON.stringify(r)}`);

  // TestState takes the same prefix.
  r = await send(new sdk.TestStateCommand({
    definition: JSON.stringify({ Type: "Pass", Next: "After" }),
    roleArn: role, input: '{"a":1}', inspectionLevel: "DEBUG",
  }));
  if (r.status !== "SUCCEEDED" || r.nextState !== "After" ||
      r.output !== '{"a":1}' || r.inspectionData.input !== '{"a":1}')
    fail(`TestState: ${JSON.stringify(r)}`);
  r = await send(new sdk.TestStateCommand({
    definition: JSON.stringify({
      Type: "Task", Resource: "arn:aws:states:::lambda:invoke",
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }], End: true,
    }),
    mock: { errorOutput: { error: "Bad", cause: "mocked" } },
  }));
  if (r.status !== "CAUGHT_ERROR" || r.nextState !== "Caught")
    fail(`TestState, caught: ${JSON.stringify(r)}`);
  console.log("OK");
})().catch((e) => fail(e.stack));
