"""A private Dovecot IMAP server for one test: its own folder, port and one user, run as a local process."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.harness import free_port


@dataclass(frozen=True)
class ImapServer:
    port: int
    user: str
    password: str
    log: Path


CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {owner}
default_login_user = {login}
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@contextmanager
def imap_server(user: str = "support", password: str = "mailbox-password") -> Iterator[ImapServer]:
    """Dovecot on a free port with one mailbox; stopped (by its own pid) and removed when the block ends.

    Its folder is a temporary one of its own, open to Dovecot's unprivileged processes (pytest's
    folders are private to the test's user)."""
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(dovecot).exists():
        raise RuntimeError("dovecot is not installed: run deploy/local/dovecot.sh install")
    owner = pwd.getpwnam("dovecot") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    login = "dovenull" if os.getuid() == 0 else owner.pw_name
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="servicedesk-dovecot-"))
    folder.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
    config = folder / "dovecot.conf"
    config.write_text(CONFIG.format(root=folder, port=port, uid=owner.pw_uid, gid=owner.pw_gid,
                                    owner=owner.pw_name, login=login))  # fmt: skip
    if os.getuid() == 0:
        for path in (folder / "mail", folder / "home", folder / "state"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    process = subprocess.Popen([dovecot, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = folder / "dovecot.log"
                    raise RuntimeError(f"dovecot did not start: {log.read_text() if log.exists() else ''}") from None
                time.sleep(0.1)
        yield ImapServer(port, user, password, folder / "dovecot.log")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
