import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_opens_with_the_two_commands():
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:8])
    assert "make demo" in head and "make test" in head


def test_readme_results_block_is_generated_from_results_files():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "update_readme_results.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, "README results block is stale: run python scripts/update_readme_results.py"
