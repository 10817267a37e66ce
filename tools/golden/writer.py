"""The fixture writer every golden script shares: cases as JSON metadata, tensors as `name/<tensor>`.

Each fixture is a safetensors file written by the safetensors library itself (so loading them also
proves nodegrad reads files PyTorch's tooling writes). Its __metadata__ "cases" entry is a JSON list
of {name, kind, options}; test/fixtures.ts reads them back.
"""
import json
import os

from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures")


class Writer:
    def __init__(self):
        self.tensors = {}
        self.cases = []

    def case(self, name, kind, options, **tensors):
        self.cases.append({"name": name, "kind": kind, "options": options})
        for key, value in tensors.items():
            if value is not None:
                self.tensors[f"{name}/{key}"] = value.detach().contiguous().clone()

    def save(self, filename):
        save_file(self.tensors, os.path.join(ROOT, filename), metadata={"cases": json.dumps(self.cases)})
