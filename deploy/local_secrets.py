"""The embedded default's own secrets, made once and kept beside its data (mode 0600): the
operator token for /ops and the master key that seals members' data at rest. Production
gives both through the environment instead (deploy/README.md)."""

from __future__ import annotations

import secrets
from pathlib import Path


def local_ops_token(run_dir: Path) -> str:
    """The embedded default's operator token for /ops, made once (0600)."""
    path = run_dir / "ops.token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def local_master_key(run_dir: Path) -> str:
    """The embedded default's own master key, made once and kept beside its data (0600)."""
    path = run_dir / "master.key"
    if not path.exists():
        from shared.crypto import generate_master_key_spec

        path.write_text(generate_master_key_spec("local1"))
        path.chmod(0o600)
    return path.read_text().strip()
