#!/usr/bin/env bash
# Mutation testing of one package with gremlins (github.com/go-gremlins/gremlins
# v0.5.0): plants single-token defects (arithmetic, comparison boundaries and
# negations, ++/--, sign flips) one at a time in the package's own files, runs
# the package's tests against each, and prints the test efficacy:
# killed / (killed + lived). Mutants no test covers and mutants whose test run
# timed out are listed but not counted, as gremlins does.
#
#   scripts/mutate.sh ./rl/dqn            (make mutate PKG=./rl/dqn)
#
# Environment: WORKERS (parallel test runs, default 2), SHORT=1 runs the
# package's tests with -short (faster, a lower bound on the full suite's
# efficacy), OUT=file keeps the per-mutant JSON, LIVED=0 hides the list of
# surviving mutants.
#
# gremlins walks a folder recursively; the package's own files are selected
# with -coverpkg (only they get coverage, so only they are run) and the
# report counts only them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH
export CGO_ENABLED=0
pkg=${1:?usage: scripts/mutate.sh ./path/to/package}
pkg=./${pkg#./}
pkg=${pkg%/}
[ -d "$pkg" ] || { echo "mutate: no package folder $pkg" >&2; exit 2; }
gremlins=$(command -v gremlins || true)
if [ -z "$gremlins" ] || ! go version -m "$gremlins" 2>/dev/null | grep -q "mod.*go-gremlins/gremlins.*v0.5.0"; then
  echo "mutate: installing gremlins v0.5.0 (go install)" >&2
  go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.5.0
  gremlins=$(go env GOPATH)/bin/gremlins
fi
import=$(go list "$pkg")
out=${OUT:-$(mktemp /tmp/mutate.XXXXXX.json)}
# -count=1: a cached coverage run would time at ~0 s and make gremlins time
# out nearly every mutant.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-count=1"
[ "${SHORT:-0}" = 1 ] && export GOFLAGS="$GOFLAGS -short"
"$gremlins" unleash --silent --workers "${WORKERS:-2}" --timeout-coefficient "${TIMEOUT_COEF:-5}" \
  --coverpkg "$import" -o "$out" "$pkg" >/dev/null || true
go run ./scripts/mutreport -pkg "$pkg" -lived="${LIVED:-1}" "$out"
