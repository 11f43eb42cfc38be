#!/usr/bin/env bash
# Checks the dependency direction of docs/design.md with `go list -deps`:
# nn and datasets import nothing of the project beyond themselves; rl/envs
# never import nn or models; models may use the rl core (actions, spaces,
# the policy heads) and the environments' observation types, never a
# training algorithm; rl/agent (the contracts between models and
# trainers) imports only nn and rl; checkpoints imports only nn; nothing
# imports cmd.
set -euo pipefail
mod=github.com/cpntrain/cpntrain
fail=0
check() { # package pattern, forbidden regexp of project imports
  local pkgs
  pkgs=$(go list "$1" 2>/dev/null) || return 0
  for p in $pkgs; do
    bad=$(go list -deps "$p" | grep "^$mod/" | grep -v "^$p\$" | grep -E "$2" || true)
    if [ -n "$bad" ]; then
      echo "dependency rule broken: $p imports:"; echo "$bad" | sed 's/^/  /'; fail=1
    fi
  done
}
check "./nn/..." "^$mod/(models|rl|train|datasets|checkpoints|cmd|internal)"
check "./datasets/..." "^$mod/(nn|models|rl|train|checkpoints|cmd)"
check "./rl/envs/..." "^$mod/(nn|models|train|checkpoints|cmd)"
check "./checkpoints/..." "^$mod/(models|rl|train|datasets|cmd)"
check "./models/..." "^$mod/(rl/(ppo|dqn|pg|actorcritic|internal)|train|cmd)"
check "./rl/agent/..." "^$mod/(models|train|cmd|rl/(ppo|dqn|pg|actorcritic|policy|smoke|envs|internal))"
exit $fail
