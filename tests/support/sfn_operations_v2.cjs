// Every operation of wf-gateway's AWS JSON API with the AWS SDK for
// JavaScript v2 (npm's aws-sdk, AWS.StepFunctions), success and error
// each: the scenario of sfn_operations_scenario.cjs through the SDK's
// methods (createStateMachine(params).promise()).
//
// Run by tests/test_gateway_clients.c with NODE_PATH naming the
// node_modules that holds the SDK: node sfn_operations_v2.cjs PORT. Prints
// "DRIVEN op ..." and OK, or FAILED and what failed (exit 1).
"use strict";
// The SDK's note that v2 is in maintenance mode, on every run.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
const AWS = require("aws-sdk");
const { connection, drive } = require("./sfn_operations_scenario.cjs");

const sfn = new AWS.StepFunctions({
  ...connection(process.argv[2]),
  // StartSyncExecution and TestState would go to sync-127.0.0.1.
  hostPrefixEnabled: false,
  // An error is the gateway's answer, not one retried into another.
  maxRetries: 0,
});
const model = sfn.api.operations;

console.log(`CLIENT aws-sdk ${AWS.VERSION}`);
drive({
  send: (op, params) => {
    const method = op[0].toLowerCase() + op.slice(1);
    if (!model[method])
      throw new Error(`aws-sdk ${AWS.VERSION}'s model lacks ${op}`);
    return sfn[method](params).promise();
  },
  error: (e) => ({
    status: e.statusCode,
    name: e.code || e.name,
    message: e.message,
  }),
});
