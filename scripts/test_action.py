"""Runs action.yml's steps locally, the way the GitHub runner does.

A small runner for composite actions: every `run:` step is written to a file
and run with `bash --noprofile --norc -eo pipefail FILE` (GitHub's `shell:
bash`), in the workspace, with the runner's environment variables
(GITHUB_WORKSPACE, GITHUB_ACTION_PATH, RUNNER_TEMP, GITHUB_OUTPUT,
GITHUB_PATH, GITHUB_ENV, GITHUB_STEP_SUMMARY, CI, GITHUB_ACTIONS …) and the
step's `env:` with its `${{ … }}` expressions evaluated. `if:` and
`continue-on-error:` are evaluated; outputs are read back from GITHUB_OUTPUT.
The upload-sarif step cannot run here: each scenario says whether it
succeeds or fails, and its inputs are checked.

Before running anything, the action is checked as a security reviewer would:
no expression inside `run:`, every `uses:` pinned by a full commit SHA.

Usage: python3 scripts/test_action.py  (needs PyYAML, cargo, bash)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import json

import yaml

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTION = yaml.safe_load(open(os.path.join(HERE, "action.yml"), encoding="utf-8"))
FAILURES = []
PASSED = 0


def check(cond, what):
    global PASSED
    if cond:
        PASSED += 1
        print(f"  ok   {what}")
    else:
        FAILURES.append(what)
        print(f"  FAIL {what}")


# --- expressions ------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(==|!=|&&|\|\||!|\(|\))|'((?:[^']|'')*)'|([A-Za-z_][\w.\-]*(?:\(\))?))")


def tokenize(expr):
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read expression at {expr[pos:]!r}")
        op, string, name = m.groups()
        if op:
            out.append(("op", op))
        elif string is not None:
            out.append(("str", string.replace("''", "'")))
        else:
            out.append(("name", name))
        pos = m.end()
    return out


class Evaluator:
    """GitHub expressions, the subset action.yml uses."""

    def __init__(self, ctx):
        self.ctx = ctx

    def value(self, name):
        if name in ("always()", "success()"):
            return True
        if name in ("true", "false"):
            return name == "true"
        parts = name.split(".")
        cur = self.ctx
        for p in parts:
            if not isinstance(cur, dict):
                return ""
            cur = cur.get(p, "")
        return cur

    def eval(self, expr):
        self.toks, self.i = tokenize(expr), 0
        v = self.or_()
        assert self.i == len(self.toks), f"trailing tokens in {expr!r}"
        return v

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def or_(self):
        v = self.and_()
        while self.peek() == ("op", "||"):
            self.i += 1
            r = self.and_()
            v = v or r
        return v

    def and_(self):
        v = self.cmp()
        while self.peek() == ("op", "&&"):
            self.i += 1
            r = self.cmp()
            v = v and r
        return v

    def cmp(self):
        v = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.peek()[1]
            self.i += 1
            r = self.unary()
            same = str(v).lower() == str(r).lower()
            v = same if op == "==" else not same
        return v

    def unary(self):
        kind, tok = self.peek()
        self.i += 1
        if (kind, tok) == ("op", "!"):
            return not self.unary()
        if (kind, tok) == ("op", "("):
            v = self.or_()
            assert self.peek() == ("op", ")")
            self.i += 1
            return v
        if kind == "str":
            return tok
        if kind == "name":
            return self.value(tok)
        raise ValueError(f"unexpected {tok!r}")


def interpolate(text, ev):
    def repl(m):
        v = ev.eval(m.group(1))
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    return re.sub(r"\$\{\{(.*?)\}\}", repl, str(text))


def condition(text, ev):
    text = str(text).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", text)
    v = ev.eval(m.group(1) if m else text)
    return v if isinstance(v, bool) else v not in ("", "false", 0)


# --- static review ------------------------------------------------------------


def review():
    print("action.yml, reviewed")
    steps = ACTION["runs"]["steps"]
    check(ACTION["runs"]["using"] == "composite", "a composite action")
    for s in steps:
        name = s.get("name", s.get("id"))
        if "run" in s:
            check("${{" not in s["run"], f"{name}: no expression inside run:")
            check(s.get("shell") == "bash", f"{name}: shell is bash")
        if "uses" in s:
            ref = s["uses"].split("@", 1)[1]
            check(re.fullmatch(r"[0-9a-f]{40}", ref) is not None, f"{name}: {s['uses']} pinned by a full commit SHA")
    text = open(os.path.join(HERE, "action.yml"), encoding="utf-8").read()
    for m in re.finditer(r"\$\{\{\s*inputs\.([\w-]+)", text):
        check(m.group(1) in ACTION["inputs"], f"inputs.{m.group(1)} is declared")


# --- runner ---------------------------------------------------------------------


def read_kv_file(path):
    """name=value lines and name<<DELIM heredocs, as the runner reads them."""
    out = {}
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            i += 1
            while lines[i] != delim:
                body.append(lines[i])
                i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        i += 1
    open(path, "w").close()
    return out


def run_action(name, inputs, workspace, upload_succeeds, event="push", payload=None):
    """Run every step; returns (steps context, outcome of the action, logs)."""
    temp = tempfile.mkdtemp(prefix="runner-temp-", dir=SCRATCH)
    files = {k: os.path.join(temp, f"_{k.lower()}") for k in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")}
    for f in files.values():
        open(f, "w").close()
    all_inputs = {k: v.get("default", "") for k, v in ACTION["inputs"].items()}
    ctx = {"github": {"token": "ghs_test-token", "action_path": HERE, "workspace": workspace, "event_name": event, "event": payload or {}}, "runner": {"temp": temp}}
    ctx["inputs"] = {k: interpolate(v, Evaluator(ctx)) for k, v in all_inputs.items()}
    ctx["inputs"].update(inputs)
    ctx["steps"] = {}
    ev = Evaluator(ctx)
    base_env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "CARGO_HOME": os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo")),
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", os.path.expanduser("~/.rustup")),
        "CARGO_TARGET_DIR": CARGO_TARGET,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": workspace,
        "GITHUB_ACTION_PATH": HERE,
        "GITHUB_REPOSITORY": "example/clickhouse-deploy",
        "GITHUB_SHA": "0" * 40,
        "GITHUB_REF": "refs/pull/1/merge" if event.startswith("pull_request") else "refs/heads/main",
        "GITHUB_EVENT_NAME": event,
        # The runner's git configuration stays out of the scenarios.
        **GIT_ENV,
        # A cheaper release build for a local try, when asked for.
        **{k: v for k, v in os.environ.items() if k.startswith("CARGO_PROFILE_RELEASE_")},
        "RUNNER_TEMP": temp,
        "RUNNER_OS": "Linux",
        **files,
    }
    log = []
    failed = False
    for step in ACTION["runs"]["steps"]:
        sid = step.get("id", step.get("name"))
        cond = step.get("if")
        should = (not failed) if cond is None else (condition(cond, ev) and (not failed or "always()" in str(cond)))
        if not should:
            ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            continue
        continue_on_error = condition(step.get("continue-on-error", False), ev) if "continue-on-error" in step else False
        if "uses" in step:
            with_ = {k: interpolate(v, ev) for k, v in step.get("with", {}).items()}
            log.append(("uses", sid, with_))
            ok = upload_succeeds and os.path.isfile(with_.get("sarif_file", ""))
            outputs = {}
        else:
            env = dict(base_env)
            env.update({k: interpolate(v, ev) for k, v in step.get("env", {}).items()})
            script = os.path.join(temp, f"step-{sid}.sh")
            with open(script, "w") as f:
                f.write(step["run"])
            p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=workspace, env=env, capture_output=True, text=True)
            log.append(("run", sid, p.returncode, p.stdout, p.stderr))
            ok = p.returncode == 0
            outputs = read_kv_file(files["GITHUB_OUTPUT"])
            for line in open(files["GITHUB_PATH"]).read().split("\n"):
                if line:
                    base_env["PATH"] = line + os.pathsep + base_env["PATH"]
            open(files["GITHUB_PATH"], "w").close()
        outcome = "success" if ok else "failure"
        ctx["steps"][sid] = {"outputs": outputs, "outcome": outcome, "conclusion": "success" if ok or continue_on_error else "failure"}
        if not ok and not continue_on_error:
            failed = True
    summary = open(files["GITHUB_STEP_SUMMARY"]).read()
    return ctx, ("failure" if failed else "success"), log, summary, temp


GIT_ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(cwd, *args):
    env = dict(os.environ, **GIT_ENV)
    p = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"git {args}: {p.stderr}")
    return p.stdout.strip()


def pull_request_repo(name):
    """An origin repository: a base commit (examples/open in deploy/, a
    `.chlint.toml` selecting CH101 and CH106, an empty baseline), then a
    pull request that quiets chlint (`exclude = ["**"]`, a suppression, its
    findings recorded in the baseline); and a depth-1 clone of it, as
    actions/checkout makes. Returns (clone, base commit, head commit)."""
    origin = os.path.join(SCRATCH, name + "-origin")
    shutil.copytree(os.path.join(HERE, "examples", "open"), os.path.join(origin, "deploy", "open"))
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "uploadpack.allowAnySHA1InWant", "true")
    with open(os.path.join(origin, ".chlint.toml"), "w") as f:
        f.write('select = ["CH101", "CH106"]\n')
    with open(os.path.join(origin, "chlint-baseline.json"), "w") as f:
        f.write('{"version": 1, "findings": []}\n')
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "base")
    base = git(origin, "rev-parse", "HEAD")
    with open(os.path.join(origin, ".chlint.toml"), "a") as f:
        f.write('exclude = ["**"]\n')
    with open(os.path.join(origin, "deploy", "open", "config.d", "lab.yaml"), "w") as f:
        f.write("# chlint: ignore[CH203] lab only\nmysql_port: 9004\n")
    chlint = os.path.join(CARGO_TARGET, "release", "chlint")
    subprocess.run([chlint, "check", "--no-config", "--select", "CH101,CH106", "--write-baseline", "chlint-baseline.json", "deploy"], cwd=origin, check=True, capture_output=True)
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "quiet chlint")
    head = git(origin, "rev-parse", "HEAD")
    ws = os.path.join(SCRATCH, name)
    git(SCRATCH, "clone", "-q", "--depth", "1", "file://" + origin, ws)
    return ws, base, head


def stdout_of(log, sid):
    return "".join(e[3] for e in log if e[0] == "run" and e[1] == sid)


def workspace_with(name, example):
    ws = os.path.join(SCRATCH, name)
    shutil.copytree(os.path.join(HERE, "examples", example), os.path.join(ws, "deploy", example))
    return ws


def scenario(title, inputs, example, upload_succeeds):
    print(f"scenario: {title}")
    ws = workspace_with(title.replace(" ", "-").replace(",", ""), example)
    return ws, run_action(title, inputs, ws, upload_succeeds)


def dump(log):
    for e in log:
        if e[0] == "run":
            print(f"    [{e[1]}] exit {e[2]}\n" + "".join("      " + l + "\n" for l in (e[3] + e[4]).splitlines()))
        else:
            print(f"    [{e[1]}] uses with {e[2]}")


def main():
    review()

    # 1. Open configuration, code scanning unavailable: annotations instead.
    ws, (ctx, result, log, summary, temp) = scenario("open, upload fails", {"paths": "deploy"}, "open", False)
    steps = ctx["steps"]
    check(steps["install"]["outcome"] == "success", "chlint installs from the action's source")
    check(steps["run"]["outputs"].get("exit-code") == "1", "chlint exits 1 on findings")
    sarif_file = steps["run"]["outputs"].get("sarif-file", "")
    check(sarif_file.startswith(temp) and os.path.isfile(sarif_file), "SARIF written under RUNNER_TEMP")
    sarif = json.load(open(sarif_file)) if os.path.isfile(sarif_file) else {}
    results = sarif.get("runs", [{}])[0].get("results", [])
    check(len(results) == int(steps["run"]["outputs"].get("findings", "-1")) > 5, "findings output counts the SARIF results")
    uses = [e for e in log if e[0] == "uses"]
    check(len(uses) == 1 and uses[0][2]["sarif_file"] == sarif_file and uses[0][2]["category"] == "chlint", "upload-sarif gets the SARIF file and category")
    check(uses and uses[0][2]["token"] == "ghs_test-token", "upload-sarif gets the token input")
    check(steps["upload"]["outcome"] == "failure" and steps["upload"]["conclusion"] == "success", "a failed upload does not fail the action (auto)")
    annotations = stdout_of(log, "Annotate findings (code scanning not used)")
    check("::error file=deploy/open/users.xml,line=14," in annotations, "annotations point at the workspace-relative file and line")
    check(annotations.count("\n::") + 1 >= len(results), "one annotation per finding")
    check("::warning title=chlint::the SARIF upload failed" in annotations, "the fallback says why")
    check(result == "failure", "the action fails on findings")
    check("critical[CH101]" in summary and "### chlint:" in summary, "the step summary lists the findings")
    if result != "failure" or not annotations:
        dump(log)

    # 2. Open configuration, upload works: no annotations.
    ws, (ctx, result, log, summary, temp) = scenario("open, upload works", {"paths": "deploy"}, "open", True)
    check(ctx["steps"]["upload"]["outcome"] == "success", "upload succeeds")
    check(ctx["steps"]["trust"]["outputs"].get("base", "") == "" and ctx["steps"]["review"]["outcome"] == "skipped", "a push is checked with its own configuration, nothing to review")
    check(ctx["steps"]["Annotate findings (code scanning not used)"]["outcome"] == "skipped", "no annotations when code scanning has the results")
    check(result == "failure", "the action still fails on findings")

    # 3. upload-sarif: false, fail-on: never.
    ws, (ctx, result, log, summary, temp) = scenario("annotations only, never fail", {"paths": "deploy", "upload-sarif": "false", "fail-on": "never"}, "open", True)
    check(ctx["steps"]["upload"]["outcome"] == "skipped", "no upload with upload-sarif: false")
    check("::error file=" in stdout_of(log, "Annotate findings (code scanning not used)"), "annotations with upload-sarif: false")
    check(result == "success", "fail-on: never passes")

    # 4. Hardened configuration.
    ws, (ctx, result, log, summary, temp) = scenario("hardened", {}, "hardened", True)
    check(ctx["steps"]["run"]["outputs"].get("exit-code") == "0", "no findings on the hardened configuration")
    check(ctx["steps"]["run"]["outputs"].get("findings") == "0", "findings output is 0")
    check(result == "success", "the action passes")
    if result != "success":
        dump(log)

    # 5. fail-on high with only medium findings: passes.
    ws = workspace_with("fail-on", "open")
    with open(os.path.join(ws, ".chlint.toml"), "w") as f:
        f.write('select = ["CH203"]\n')
    os.makedirs(os.path.join(ws, ".git"))
    print("scenario: fail-on high, only medium findings")
    ctx, result, log, summary, temp = run_action("fail-on", {"paths": "deploy", "fail-on": "high"}, ws, True)
    check(ctx["steps"]["run"]["outputs"].get("findings") == "2", "the configuration file is used (2 CH203)")
    check(result == "success", "medium findings pass with fail-on: high")

    # 6. Hostile inputs stay data.
    ws = workspace_with("hostile", "open")
    print("scenario: hostile inputs")
    marker = os.path.join(ws, "pwned")
    hostile = f'deploy\n$(touch {marker})\n"; touch {marker}; echo "\n`touch {marker}`\n--version'
    ctx, result, log, summary, temp = run_action("hostile", {"paths": hostile, "upload-sarif": "false"}, ws, False)
    check(not os.path.exists(marker), "paths are never evaluated by the shell")
    check(ctx["steps"]["run"]["outputs"].get("exit-code") == "2", "chlint rejects the odd paths (exit 2)")
    check(result == "failure", "the action fails when chlint cannot run")
    ctx, result, log, summary, temp = run_action("hostile-sev", {"paths": "deploy", "min-severity": f"low; touch {marker}"}, ws, False)
    check(not os.path.exists(marker) and result == "failure", "a bad min-severity is rejected, not run")

    # 7. A pull request that quiets chlint, trusted configuration on (auto).
    print("scenario: pull request, trusted configuration")
    ws, base, head = pull_request_repo("pr-trusted")
    payload = {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}
    pr_inputs = {"paths": "deploy", "baseline": "chlint-baseline.json", "upload-sarif": "false"}
    ctx, result, log, summary, temp = run_action("pr-trusted", pr_inputs, ws, False, "pull_request", payload)
    steps = ctx["steps"]
    check(steps["trust"]["outputs"].get("base") == base and "fetching the base commit" in stdout_of(log, "trust"), "the base commit is fetched into the shallow clone and used")
    check(steps["run"]["outputs"].get("exit-code") == "1", "findings are reported despite the pull request's exclude and baseline")
    check("--config-from-git" in open(os.path.join(temp, "chlint-args")).read(), "the run reads the configuration from the base commit")
    review_out = stdout_of(log, "review")
    check("::warning file=.chlint.toml,line=2,title=chlint%3A configuration changed::" in review_out, "the exclude the pull request adds is annotated at its line")
    check("::warning file=deploy/open/config.d/lab.yaml,line=1,title=chlint%3A suppression added::" in review_out, "the suppression the pull request adds is annotated at its line")
    check("::warning file=chlint-baseline.json,line=" in review_out and "records a CH101 finding" in review_out, "the baseline entries the pull request adds are annotated")
    check(steps["review"]["outputs"].get("changes", "0") == str(review_out.count("::warning ")) != "0", "review-changes output counts the annotations")
    check("change(s) to chlint's own checks" in summary, "the step summary lists the changes")
    check(result == "failure", "the action fails on the findings the pull request tried to hide")
    if result != "failure" or not review_out:
        dump(log)

    # 8. The same with trusted-config: false: the pull request's own files.
    print("scenario: pull request, trusted configuration off")
    ws, base, head = pull_request_repo("pr-untrusted")
    payload = {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}
    ctx, result, log, summary, temp = run_action("pr-untrusted", dict(pr_inputs, **{"trusted-config": "false"}), ws, False, "pull_request", payload)
    check(ctx["steps"]["trust"]["outputs"].get("base", "") == "" and ctx["steps"]["review"]["outcome"] == "skipped", "off: no base, no review")
    check(ctx["steps"]["run"]["outputs"].get("exit-code") == "0" and result == "success", "off: the pull request's exclude applies (what trusted-config prevents)")

    # 9. strict-review fails on the changes even when findings would not.
    print("scenario: pull request, strict review")
    ws, base, head = pull_request_repo("pr-strict")
    payload = {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}
    ctx, result, log, summary, temp = run_action("pr-strict", dict(pr_inputs, **{"strict-review": "true", "fail-on": "never"}), ws, False, "pull_request", payload)
    check(result == "failure" and "strict-review is on" in stdout_of(log, "Verdict"), "strict-review fails the action on changes to chlint's checks")

    # 10. A base commit that cannot be fetched: a clear failure, no fallback.
    print("scenario: pull request, base not fetchable")
    ws, base, head = pull_request_repo("pr-nobase")
    payload = {"pull_request": {"base": {"sha": "1" * 40}}}
    ctx, result, log, summary, temp = run_action("pr-nobase", pr_inputs, ws, False, "pull_request", payload)
    check(ctx["steps"]["trust"]["outcome"] == "failure" and ctx["steps"]["run"]["outcome"] == "skipped", "an unfetchable base stops the action before the run")
    check("cannot fetch the base commit" in stdout_of(log, "trust") and result == "failure", "and says why")
    ctx, result, log, summary, temp = run_action("pr-badbase", dict(pr_inputs, base=f"--upload-pack=touch {marker}"), ws, False, "pull_request", payload)
    check(not os.path.exists(marker) and ctx["steps"]["trust"]["outcome"] == "failure", "a base input that is no ref is rejected, not run")

    ws = workspace_with("pr-nogit", "open")
    print("scenario: pull request, no git checkout")
    ctx, result, log, summary, temp = run_action("pr-nogit", pr_inputs, ws, False, "pull_request", payload)
    check(result == "failure" and "needs the repository checked out" in stdout_of(log, "trust"), "without a checkout, trusted-config says what is missing")

    print(f"action: {PASSED} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    SCRATCH = tempfile.mkdtemp(prefix="chlint-action-test-")
    CARGO_TARGET = os.environ.get("CHLINT_INTEGRATION_TARGET", os.path.join(HERE, "target", "integration"))
    try:
        code = main()
    finally:
        if os.environ.get("CHLINT_KEEP_TMP") != "1":
            shutil.rmtree(SCRATCH, ignore_errors=True)
    sys.exit(code)
