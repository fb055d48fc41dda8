/* The console's stylesheet and script, compiled into the gateway: the
 * console loads nothing from anywhere else (its Content-Security-Policy
 * forbids it), and works on a machine with no network. */
#include <stdlib.h>
#include <string.h>

#include "console.h"

static const char CSS[] =
    ":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;"
    "--link:#0969da}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Helvetica,Arial,sans-serif;color:var(--fg);background:#fff}\n"
    "header{background:#24292f;padding:.6rem 1.2rem}\n"
    "header nav{display:flex;gap:1.2rem;align-items:center}\n"
    "header a{color:#f0f3f6;text-decoration:none}\n"
    "header a.brand{font-weight:600}\n"
    "header form.logout{margin-left:auto}\n"
    "main{padding:1rem 1.2rem;max-width:1400px}\n"
    "h1{font-size:1.4rem;margin:.4rem 0 .8rem}\n"
    "h2{font-size:1.1rem;margin:1.4rem 0 .5rem}\n"
    "a{color:var(--link)}\n"
    "table.list{border-collapse:collapse;width:100%}\n"
    "table.list th,table.list td{border-bottom:1px solid var(--line);"
    "padding:.35rem .6rem;text-align:left;vertical-align:top}\n"
    "table.list th{background:var(--bg);font-weight:600}\n"
    "table.events pre{margin:0;max-height:16rem;overflow:auto}\n"
    "pre{background:var(--bg);border:1px solid var(--line);padding:.5rem;"
    "overflow:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,"
    "Consolas,monospace;white-space:pre-wrap;word-break:break-word}\n"
    ".arn{color:var(--muted);font-family:ui-monospace,monospace}\n"
    ".type{font-size:.8rem;color:var(--muted);font-weight:400}\n"
    ".graph{border:1px solid var(--line);border-radius:6px;padding:.5rem;"
    "overflow:auto;background:#fff}\n"
    ".graph svg{max-width:100%;height:auto}\n"
    ".status{display:inline-block;border-radius:1rem;padding:0 .55rem;"
    "font-size:.75rem;font-weight:600;vertical-align:middle}\n"
    ".status-RUNNING{background:#d8e8ff;color:#0b4fb3}\n"
    ".status-SUCCEEDED{background:#d7f0dc;color:#1b5e20}\n"
    ".status-FAILED,.status-TIMED_OUT{background:#fbd5d8;color:#8e1b1b}\n"
    ".status-ABORTED{background:#e6e8eb;color:#3d4652}\n"
    ".legend .key{display:inline-block;padding:0 .5rem;border-radius:4px;"
    "border:1px solid;font-size:.8rem}\n"
    ".key.mark_succeeded{background:#d7f0dc;border-color:#2e7d32}\n"
    ".key.mark_failed{background:#fbd5d8;border-color:#c62828}\n"
    ".key.mark_caught{background:#fff1c7;border-color:#b7791f}\n"
    ".key.mark_running{background:#d8e8ff;border-color:#1f6feb}\n"
    ".key.mark_not_reached{background:#f1f2f4;border-color:#a9b0ba}\n"
    "dl.summary{display:grid;grid-template-columns:max-content 1fr;"
    "gap:.2rem 1rem}\n"
    "dl.summary dt{color:var(--muted)}\n"
    "dl.summary dd{margin:0;word-break:break-all}\n"
    ".data{display:grid;grid-template-columns:1fr 1fr;gap:1rem}\n"
    ".problem,.error{color:#8e1b1b}\n"
    ".filter a,.filter strong,.pages a{margin-right:.6rem}\n"
    "form.login{display:flex;flex-direction:column;gap:.6rem;"
    "max-width:22rem}\n"
    "form.login input{width:100%;padding:.4rem}\n"
    "button{padding:.3rem .8rem;cursor:pointer}\n"
    ".hint{color:var(--muted)}\n";

/* A running execution's page re-reads itself every two seconds until the
 * execution ends, replacing the part that changes (#live). */
static const char JS[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var live = document.getElementById('live');\n"
    "  if (!live || live.dataset.status !== 'RUNNING') return;\n"
    "  function poll() {\n"
    "    fetch(location.href, {credentials: 'same-origin', cache: "
    "'no-store'})\n"
    "      .then(function (r) {\n"
    "        if (!r.ok) throw new Error('HTTP ' + r.status);\n"
    "        return r.text();\n"
    "      })\n"
    "      .then(function (text) {\n"
    "        var doc = new DOMParser().parseFromString(text, 'text/html');\n"
    "        var next = doc.getElementById('live');\n"
    "        if (!next) return;\n"
    "        next = document.adoptNode(next);\n"
    "        live.replaceWith(next);\n"
    "        live = next;\n"
    "        if (live.dataset.status === 'RUNNING') setTimeout(poll, 2000);\n"
    "      })\n"
    "      .catch(function () { setTimeout(poll, 5000); });\n"
    "  }\n"
    "  setTimeout(poll, 2000);\n"
    "})();\n";

bool cs_asset(const char *name, gw_response *resp) {
  const char *text, *type;
  if (!strcmp(name, "console.css")) {
    text = CSS;
    type = "text/css; charset=utf-8";
  } else if (!strcmp(name, "console.js")) {
    text = JS;
    type = "text/javascript; charset=utf-8";
  } else {
    return false;
  }
  free(resp->body);
  resp->body = strdup(text);
  resp->status = resp->body ? 200 : 500;
  resp->content_type = type;
  cs_security_headers(resp);
  return true;
}
