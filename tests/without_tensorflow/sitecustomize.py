"""Put this folder on PYTHONPATH to run Python as if TensorFlow were not installed (as on a GPU
machine with only PyTorch): importing tensorflow raises ModuleNotFoundError."""

import importlib.machinery
import sys


class _Missing:
    def create_module(self, spec):
        raise ModuleNotFoundError(f"No module named {spec.name!r} (hidden by tests/without_tensorflow)", name=spec.name)

    def exec_module(self, module):  # never reached
        raise ModuleNotFoundError(module.__name__)


class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            return importlib.machinery.ModuleSpec(name, _Missing())  # origin None: nothing to read
        return None


sys.meta_path.insert(0, _NoTensorFlow())
