#!/usr/bin/env python3
"""Writes JSONata versions of the JSONPath benchmark workloads.

    jsonata_workloads.py SRC_DIR OUT_DIR

SRC_DIR is ../shared/bench/workloads. For pass-chain and the seed workflow
(sequential and concurrent), OUT_DIR receives a manifest.json with the same
entries and checks, the inputs, and each definition rewritten state by state
into "QueryLanguage": "JSONata" doing the same work:

  Parameters + ResultPath "$.k"  ->  Output {% $merge([$states.input,
                                       {"k": <the Parameters as JSONata>}]) %}
  a Task's ResultPath "$.k"      ->  Output {% $merge([$states.input,
                                       {"k": $states.result}]) %}
  a Catcher's ResultPath "$.k"   ->  Output {% $merge([$states.input,
                                       {"k": $states.errorOutput}]) %}
  Choice Variable + StringEquals ->  Condition {% <path> = "<value>" %}

Anything else in a definition is refused, so a workload that changes
shape is noticed rather than benchmarked wrong.
"""
import json
import shutil
import sys

WORKLOADS = ["pass-chain", "seed-workflow-seq", "seed-workflow-conc"]


def fail(msg):
    sys.exit("jsonata_workloads.py: " + msg)


def path_expr(path):
    """A reference path "$.a.b" as a JSONata path over $states.input."""
    if path == "$":
        return "$states.input"
    if not path.startswith("$."):
        fail("unsupported path " + path)
    return "$states.input" + "".join(
        "." + json.dumps(p) if not p.isidentifier() else "." + p
        for p in path[2:].split("."))


def template_expr(value):
    """A payload template (keys ending ".$" take paths) as JSONata."""
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if k.endswith(".$"):
                parts.append("%s: %s" % (json.dumps(k[:-2]), path_expr(v)))
            else:
                parts.append("%s: %s" % (json.dumps(k), template_expr(v)))
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(template_expr(v) for v in value) + "]"
    return json.dumps(value)


def merge_into_input(result_path, expr):
    if not (result_path.startswith("$.") and "." not in result_path[2:]):
        fail("unsupported ResultPath " + result_path)
    return "{%% $merge([$states.input, {%s: %s}]) %%}" % (
        json.dumps(result_path[2:]), expr)


def convert_state(name, st):
    st = dict(st)
    kind = st["Type"]
    if kind == "Pass":
        params = st.pop("Parameters", None)
        rp = st.pop("ResultPath", None)
        if params is None or rp is None:
            fail("state %s: a Pass needs Parameters and ResultPath" % name)
        st["Output"] = merge_into_input(rp, template_expr(params))
    elif kind == "Task":
        rp = st.pop("ResultPath", None)
        if rp is not None:
            st["Output"] = merge_into_input(rp, "$states.result")
        for c in st.get("Catch", []):
            crp = c.pop("ResultPath", None)
            if crp is not None:
                c["Output"] = merge_into_input(crp, "$states.errorOutput")
    elif kind == "Choice":
        rules = []
        for r in st["Choices"]:
            if set(r) != {"Variable", "StringEquals", "Next"}:
                fail("state %s: unsupported Choice rule %s" % (name, r))
            rules.append({
                "Condition": "{%% %s = %s %%}" % (
                    path_expr(r["Variable"]), json.dumps(r["StringEquals"])),
                "Next": r["Next"]})
        st["Choices"] = rules
    elif kind not in ("Succeed", "Fail"):
        fail("state %s: unsupported type %s" % (name, kind))
    for k in ("InputPath", "OutputPath", "ResultSelector"):
        if k in st:
            fail("state %s: unsupported field %s" % (name, k))
    return st


def convert(defn):
    out = {}
    for k, v in defn.items():
        if k == "States":
            out[k] = {n: convert_state(n, s) for n, s in v.items()}
        else:
            out[k] = v
        if k == "Comment":
            out[k] = v + " (JSONata version)"
    out["QueryLanguage"] = "JSONata"
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    import os
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(src, "manifest.json")) as f:
        manifest = json.load(f)
    out = {"comment": "JSONata versions of " + src, "workloads": {}}
    for name in WORKLOADS:
        w = dict(manifest["workloads"][name])
        with open(os.path.join(src, w["definition"])) as f:
            defn = json.load(f)
        target = w["definition"].replace(".asl.json", ".jsonata.asl.json")
        with open(os.path.join(dst, target), "w") as f:
            json.dump(convert(defn), f, indent=2)
        shutil.copyfile(os.path.join(src, w["input"]),
                        os.path.join(dst, w["input"]))
        w["definition"] = target
        out["workloads"][name] = w
    with open(os.path.join(dst, "manifest.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
