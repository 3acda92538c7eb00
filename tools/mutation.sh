#!/usr/bin/env bash
# Mutation testing (issue 15): mutmut 3 breaks the rules in the source one at a time and
# runs the tests that reach each change; a mutant the tests survive is a rule nobody defends.
# Not part of CI (it takes hours over every module). Run it module by module:
#
#   .venv/bin/pip install -e '.[dev,mutation]'
#   tools/mutation.sh ownership followups        # or: tools/mutation.sh (every module)
#
# Results stay in mutants/: the next run goes on with the mutants not checked yet and checks
# again the survivors not accepted (a test may kill them now); FRESH=1 checks every mutant of
# the modules again (after a merge that changed the source, or a change to the tests
# selected); `.venv/bin/mutmut run NAME` checks one again. The score per module and the survivors not in
# tools/accepted_survivors.toml are printed at the end. JOBS=N runs N mutants at once
# (default 1: the machine is shared). Which tests run is [tool.mutmut] in pyproject.toml.
# The SQLAlchemy store's mutants need PostgreSQL: with SERVICEKIT_TEST_POSTGRES set (for
# example postgresql://postgres@127.0.0.1:5432/test) before the first run of a new mutants/
# (FRESH=1), its contract tests reach them; the desk suite then also runs on PostgreSQL,
# which makes every mutant of the other modules slower, so run `stores` on its own that way.
# Mutants of code that runs at import or fills a cache before mutmut forks its worker are
# listed, with the tests that kill them, in [fresh_process] of tools/accepted_survivors.toml;
# `.venv/bin/python tools/mutation_score.py --check-fresh MODULE ...` checks them again.
set -euo pipefail

main() {
  cd "$(dirname "$0")/.."
  export CI=1
  # fixed hypothesis examples (a mutant is killed or not, never by luck), fewer, unshrunk
  export SERVICEKIT_HYPOTHESIS_PROFILE=mutation
  local modules=("$@")
  if [ ${#modules[@]} -eq 0 ]; then
    modules=(ownership followups decisions case serialization sla calendar stores)
  fi
  local names=()
  if [ -d mutants ] && [ -z "${FRESH:-}" ]; then
    # resume: only the mutants of these modules still to check (mutmut checks again every
    # mutant it is given by name or pattern, so the patterns would start over)
    mapfile -t names < <(.venv/bin/python tools/mutation_score.py --pending "${modules[@]}")
  else
    for module in "${modules[@]}"; do
      names+=("servicekit.${module}.*")
    done
  fi
  if [ ${#names[@]} -gt 0 ]; then
    .venv/bin/mutmut run --max-children "${JOBS:-1}" "${names[@]}" || true
  fi
  .venv/bin/python tools/mutation_score.py "${modules[@]}"
}

main "$@"  # the whole script is read before it runs, so editing it mid-run is safe
