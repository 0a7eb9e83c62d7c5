python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/slth-check check
python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -n auto
