"""Run many parameterized notebooks in ONE kernel (tests only).

A papermill run costs ~2 s, mostly starting and stopping a kernel. The tests
execute each runbook once through papermill itself (CLI or API) and the rest
of the matrix through this batch: papermill's own parameter injection
(``parameterize_notebook``, the same cell papermill inserts) and nbclient's
executor, with a kernel started once and reused. The notebooks' setup cell
re-imports ``ops`` when the repo changes, so runs do not share state that
matters.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook


class KernelBatch:
    def __init__(self, cwd: str | Path, env: dict[str, str] | None = None):
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd), env=env or dict(os.environ))
        self.runs = 0

    def execute(self, notebook: str | Path, parameters: dict[str, Any], timeout: int = 300) -> nbformat.NotebookNode:
        nb = load_notebook_node(str(notebook))  # as papermill loads it (adds empty tags)
        nb = parameterize_notebook(nb, parameters)
        NotebookClient(nb, km=self.km, timeout=timeout, kernel_name="python3").execute()
        self.runs += 1
        return nb

    def close(self) -> None:
        self.km.shutdown_kernel(now=True)


def stream_text(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook printed."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o.get("text", ""))
            elif o.get("output_type") == "error":
                out.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "".join(out)
