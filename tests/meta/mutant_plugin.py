"""pytest plugin (``-p mutant_plugin``): apply the mutant named by ``SLTH_MUTANT`` before
the property files are imported.

A mutant replaces one function of ``slth_check`` everywhere it is bound (its defining
module and every ``slth_check`` module that imported the name), so property files
that import it by name after this point get the mutant too.
"""

from __future__ import annotations

import os
import sys


def pytest_configure(config):
    name = os.environ.get("SLTH_MUTANT")
    if not name:
        return
    from hypothesis import Phase, settings

    # a mutant only has to be caught, not shrunk: stop at the first failing example
    settings.register_profile("slth-meta", parent=settings.get_profile("slth-ci"),
                              phases=[Phase.explicit, Phase.reuse, Phase.generate])
    settings.load_profile("slth-meta")
    import importlib
    import pkgutil

    import slth_check

    for info in pkgutil.walk_packages(slth_check.__path__, "slth_check."):
        if info.name.endswith(("pytest_plugin", "__main__")):
            continue
        try:
            importlib.import_module(info.name)
        except ImportError:  # an optional extra
            pass
    from mutants import MUTANTS

    module_name, attr, make = MUTANTS[name][1:]
    module = importlib.import_module(module_name)
    original = getattr(module, attr)
    mutant = make(original)
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("slth_check"):
            for key, value in list(vars(mod).items()):
                if value is original:
                    setattr(mod, key, mutant)
