"""Make the shared helpers (support, contracts) importable from every test folder."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The contract suites are plain modules imported by the test modules: rewrite their asserts too,
# so a failing contract says what it got.
pytest.register_assert_rewrite("contracts")
