#!/usr/bin/env bash
# Check one mutant against chosen tests, without a mutation run: e.g. after writing a test
# for a survivor,
#
#   tools/mutant_check.sh servicekit.ownership.x__capacity__mutmut_1 tests/test_routing.py
#
# runs those tests on the mutated copy in mutants/ (made by tools/mutation.sh; for a store's
# mutant, build/mutation/stores/mutants/) with that one mutant switched on. A failing run
# means the tests kill the mutant: exit 1, or exit 4 when the mutant breaks the package's
# import (its traceback names the mutant).
set -euo pipefail

main() {
  cd "$(dirname "$0")/.."
  local mutant=$1
  shift
  local directory
  directory=$(.venv/bin/python tools/mutation_score.py --workdir "$mutant")
  # the tests import the package from mutants/: bring its files that are not mutated
  # (StoreContract's among them) up to date with src/, as the next run would
  local file
  while IFS= read -r file; do
    if [ -d "$(dirname "$directory/mutants/$file")" ] && [ ! -e "$directory/mutants/$file.meta" ] &&
      ! cmp -s "$file" "$directory/mutants/$file"; then
      cp "$file" "$directory/mutants/$file"
    fi
  done < <(find src -name '*.py')
  CI=1 SERVICEKIT_HYPOTHESIS_PROFILE=mutation MUTANT_UNDER_TEST="$mutant" \
    PYTHONPATH="$directory/mutants/src" .venv/bin/python -m pytest -x -q -p no:cacheprovider "$@"
}

main "$@"
