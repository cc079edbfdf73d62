import pytest


@pytest.fixture
def roots(settings, tmp_path):
    """Repositories may be registered by path under tmp/sources; our data lives in tmp/data."""
    settings.GIT_LOCAL_ROOTS = [str(tmp_path / "sources")]
    settings.DATA_DIR = tmp_path / "data"
    return tmp_path / "sources"
