#!/usr/bin/env bash
# The pre-commit hook, for real: installs pre-commit from PyPI in a virtual
# environment, then runs `pre-commit try-repo <this repo> chlint --all-files`
# in two sample repositories: one with the open example configuration, which
# must fail with chlint's findings, and one with the hardened example, which
# must pass.
#
# try-repo builds the hook from the committed HEAD of the repository it is
# given. So that the test checks the working tree as it is (uncommitted edits
# included), the tracked and untracked, not ignored, files are copied into a
# temporary repository and committed there.
#
# Needs python3 (venv, pip), git, cargo, and access to PyPI and crates.io.
# Set CHLINT_KEEP_TMP=1 to keep the temporary folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRE_COMMIT_VERSION="4.7.0"

work="$(mktemp -d "${TMPDIR:-/tmp}/chlint-pre-commit.XXXXXX")"
cleanup() {
    if [[ "${CHLINT_KEEP_TMP:-}" == 1 ]]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

step() { printf -- '--- %s\n' "$*"; }

git_quiet() {
    git -c user.name=chlint-test -c user.email=chlint-test@example.invalid \
        -c commit.gpgsign=false -c init.defaultBranch=main "$@" >/dev/null
}

step "pre-commit $PRE_COMMIT_VERSION in a virtual environment"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "pre-commit==$PRE_COMMIT_VERSION"
pre_commit="$work/venv/bin/pre-commit"
"$pre_commit" --version

step "this working tree as a temporary repository"
src="$work/chlint"
mkdir -p "$src"
(
    cd "$here"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            [[ -f "$f" ]] && printf '%s\0' "$f"
        done |
        tar --null -T - -cf -
) | tar -xf - -C "$src"
git_quiet -C "$src" init
git_quiet -C "$src" add -A
git_quiet -C "$src" commit -m "chlint working tree"

export PRE_COMMIT_HOME="$work/cache"
export PRE_COMMIT_COLOR=never
# try-repo installs the hook in a fresh store on every call: one cargo target
# folder for both runs (and the action test) makes builds after the first
# incremental.
export CARGO_TARGET_DIR="${CHLINT_INTEGRATION_TARGET:-$here/target/integration}"

sample() {
    local name="$1" from="$2"
    local dir="$work/$name"
    mkdir -p "$dir/clickhouse"
    cp -R "$here/$from/." "$dir/clickhouse/"
    printf '# %s\n' "$name" >"$dir/README.md"
    git_quiet -C "$dir" init
    git_quiet -C "$dir" add -A
    git_quiet -C "$dir" commit -m "sample"
    echo "$dir"
}

run_try_repo() {
    local dir="$1" log="$2"
    set +e
    (cd "$dir" && "$pre_commit" try-repo "$src" chlint --all-files --verbose) >"$log" 2>&1
    local code=$?
    set -e
    return $code
}

step "open configuration: the hook must fail"
open="$(sample open-repo examples/open)"
if run_try_repo "$open" "$work/open.log"; then
    cat "$work/open.log"
    echo "FAIL: pre-commit passed on the open configuration"
    exit 1
fi
if ! grep -q 'critical\[CH101\]' "$work/open.log"; then
    cat "$work/open.log"
    echo "FAIL: the hook failed without reporting CH101"
    exit 1
fi
grep -E '^(critical|high|medium|low)\[CH[0-9]{3}\]' "$work/open.log" | sed 's/^/    /'
echo "ok: failed with chlint's findings"

step "hardened configuration: the hook must pass"
hardened="$(sample hardened-repo examples/hardened)"
if ! run_try_repo "$hardened" "$work/hardened.log"; then
    cat "$work/hardened.log"
    echo "FAIL: pre-commit failed on the hardened configuration"
    exit 1
fi
grep -E 'chlint|Passed|No findings' "$work/hardened.log" | sed 's/^/    /'
echo "ok: passed"

echo "pre-commit: 2 passed, 0 failed"
