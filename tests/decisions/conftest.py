import pytest


@pytest.fixture(scope="session")
def pymcdm():
    """pymcdm, the independent cross-check; imported once, lazily, as importing it takes seconds."""
    return pytest.importorskip("pymcdm")
