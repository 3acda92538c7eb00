#!/usr/bin/env bash
# Mutation testing (issue 15): mutmut 3 breaks the rules in the source one at a time and
# runs the tests that reach each change; a mutant the tests survive is a rule nobody defends.
# Not part of CI (it takes hours over every module). Run it module by module:
#
#   .venv/bin/pip install -e '.[dev,mutation]'
#   tools/mutation.sh ownership followups        # or: tools/mutation.sh (every module)
#
# A module may be named with its file (`tools/mutation.sh stores.base stores.sqlite`): the
# mutants of that file only. Results stay in mutants/: the next run goes on with the mutants
# not checked yet and checks again the survivors not accepted (a test may kill them now);
# FRESH=1 checks every mutant of the modules again (after a merge that changed the source,
# or a change to the tests selected); `.venv/bin/mutmut run NAME`, in the directory of the
# module's mutants/, checks one again. The score per module and the survivors not in
# tools/accepted_survivors.toml are printed at the end. JOBS=N runs N mutants at once
# (default 1: the machine is shared). Which tests run is [tool.mutmut] in pyproject.toml.
#
# The stores are judged by the store tests only: StoreContract run on each store
# (tests/test_memory_store.py, test_sqlite_store.py, test_postgres_store.py) and what is
# particular to one store (its file, migrations, quick checks), as listed in
# [tool.servicekit.mutation.stores] of pyproject.toml. A store's rules are the contract's:
# a store mutant that only desk tests kill is a contract case missing, which is added to
# StoreContract so that every store author gets it. mutmut reads its configuration from
# the directory it runs in and keeps one test selection per mutants/, so `stores` runs in
# build/mutation/stores/ (made by `tools/mutation_score.py --workdir stores`), with a
# mutants/ of its own; the other modules in the project's.
# The SQLAlchemy store's mutants need PostgreSQL: with SERVICEKIT_TEST_POSTGRES set (for
# example postgresql://postgres@127.0.0.1:5432/test) before the first run of a new
# build/mutation/stores/mutants/, its contract tests reach them; without it they count as
# "no tests".
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
  # the modules that share a mutants/ run together, in the order given
  local group=() current="" directory
  for module in "${modules[@]}"; do
    directory=$(.venv/bin/python tools/mutation_score.py --workdir "$module")
    if [ -n "$current" ] && [ "$directory" != "$current" ]; then
      check "$current" "${group[@]}"
      group=()
    fi
    current=$directory
    group+=("$module")
  done
  check "$current" "${group[@]}"
  .venv/bin/python tools/mutation_score.py "${modules[@]}"
}

# check DIRECTORY MODULE...: run mutmut in DIRECTORY on the mutants of the modules
check() {
  local directory=$1
  shift
  local names=() root=$PWD
  if [ -d "$directory/mutants" ] && [ -z "${FRESH:-}" ]; then
    # resume: only the mutants of these modules still to check (mutmut checks again every
    # mutant it is given by name or pattern, so the patterns would start over)
    mapfile -t names < <(.venv/bin/python tools/mutation_score.py --pending "$@")
  else
    for module in "$@"; do
      names+=("servicekit.${module}.*")
    done
  fi
  if [ ${#names[@]} -gt 0 ]; then
    (cd "$directory" && "$root/.venv/bin/mutmut" run --max-children "${JOBS:-1}" "${names[@]}") || true
  fi
}

main "$@"  # the whole script is read before it runs, so editing it mid-run is safe
