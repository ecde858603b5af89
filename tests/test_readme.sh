#!/usr/bin/env bash
# The README/CI contract (README.md, "README and CI contract"): the quick
# start's block holds exactly two commands, ./run demo and ./run test, and
# .ci/run extracts ./run test from it. Also: ./run knows every command the
# README names, and both scripts parse. Usage: test_readme.sh BUILD SOURCE
set -euo pipefail
src=${2:?usage: test_readme.sh BUILD_DIR SOURCE_DIR}
fail() { echo "test_readme: FAIL: $*" >&2; exit 1; }

readme=$src/README.md
[ -f "$readme" ] || fail "no README.md"

# Lines of the first fenced block after "## Quick start", blank lines and
# whole-line comments dropped, trailing comments cut.
mapfile -t cmds < <(awk '
    /^## Quick start[[:space:]]*$/ { inqs = 1; next }
    inqs && /^## / { exit }
    inqs && /^```/ { if (inblock) exit; inblock = 1; next }
    inblock {
        line = $0
        if (index(line, "#")) line = substr(line, 1, index(line, "#") - 1)
        sub(/^[[:space:]]+/, "", line); sub(/[[:space:]]+$/, "", line)
        if (line != "") print line
    }' "$readme")
[ "${#cmds[@]}" -eq 2 ] ||
    fail "quick start has ${#cmds[@]} commands, want 2: ${cmds[*]:-none}"
[ "${cmds[0]}" = "./run demo" ] || fail "first command is '${cmds[0]}'"
[ "${cmds[1]}" = "./run test" ] || fail "second command is '${cmds[1]}'"

ci_cmd=$(bash "$src/.ci/run" --print-test-command) ||
    fail ".ci/run cannot extract the test command"
[ "$ci_cmd" = "./run test" ] || fail ".ci/run extracts '$ci_cmd'"

for f in run .ci/run; do
    [ -x "$src/$f" ] || fail "$f is not executable"
    bash -n "$src/$f" || fail "$f does not parse"
done
usage=$("$src/run" --help)
for c in demo test asan fuzz bench; do
    grep -q "^  $c" <<<"$usage" || fail "./run --help does not list $c"
    grep -q "\./run $c" "$readme" || fail "README.md does not mention ./run $c"
done
echo "test_readme: ok (quick start: ${cmds[*]}; CI runs '$ci_cmd')"
