// Every operation of wf-gateway's AWS JSON API with the AWS SDK for
// JavaScript v3 (@aws-sdk/client-sfn), success and error each: the
// scenario of sfn_operations_scenario.cjs through the SDK's commands.
//
// Run by tests/test_gateway_clients.c with NODE_PATH naming the
// node_modules that holds the SDK: node sfn_operations.cjs PORT. Prints
// "DRIVEN op ..." and OK, or FAILED and what failed (exit 1).
"use strict";
const sdk = require("@aws-sdk/client-sfn");
const { connection, drive } = require("./sfn_operations_scenario.cjs");

const sfn = new sdk.SFNClient({
  ...connection(process.argv[2]),
  // StartSyncExecution and TestState would go to sync-127.0.0.1.
  disableHostPrefix: true,
});

drive({
  send: (op, params) => sfn.send(new sdk[`${op}Command`](params)),
  error: (e) => ({
    status: e.$metadata && e.$metadata.httpStatusCode,
    name: e.name,
    message: e.message,
  }),
});
