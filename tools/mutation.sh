#!/usr/bin/env bash
# Mutation testing (issue 15): mutmut 3 breaks the rules in the source one at a time and
# runs the tests that reach each change; a mutant the tests survive is a rule nobody defends.
# Not part of CI (it takes hours over every module). Run it module by module:
#
#   .venv/bin/pip install -e '.[dev,mutation]'
#   tools/mutation.sh decisions ownership        # or: tools/mutation.sh (every module)
#
# Results stay in mutants/ (resumed on the next run); the score per module and the
# survivors not in tools/accepted_survivors.toml are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=1  # the fixed hypothesis examples: a mutant is killed or not, never by luck
modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
  modules=(decisions ownership case sla calendar followups serialization stores)
fi
names=()
for module in "${modules[@]}"; do
  names+=("servicekit.${module}.*")
done
.venv/bin/mutmut run --max-children "${JOBS:-2}" "${names[@]}" || true
.venv/bin/python tools/mutation_score.py "${modules[@]}"
