"""Prints mutmut's results as one JSON list (id, module, status, and the diff of every mutant
that was not killed), read in one process: `mutmut show` once per survivor would start Python
hundreds of times. Run from py-worker/ after `mutmut run` (scripts/mutation.mjs does)."""

from __future__ import annotations

import json

from mutmut.__main__ import SourceFileMutationData, status_by_exit_code, walk_mutatable_files
from mutmut.mutation.diff_apply import get_diff_for_mutant


def main() -> None:
    mutants = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for key, exit_code in data.exit_code_by_key.items():
            entry = {"id": key, "module": str(path), "status": status_by_exit_code[exit_code]}
            if entry["status"] not in ("killed", "timeout"):
                diff = get_diff_for_mutant(key, path=path)
                entry["diff"] = "\n".join(line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---"))
            mutants.append(entry)
    print(json.dumps(mutants))


if __name__ == "__main__":
    main()
