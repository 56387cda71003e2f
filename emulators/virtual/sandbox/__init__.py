"""The device's own root: Android's userland (mksh, toybox) in a bubblewrap sandbox per device.

Theory of operation
-------------------
`Sandbox.start()` runs `bwrap` once per device. Inside: a read-only tmpfs root laid out like
Android (`/system/bin/sh` = mksh, toybox applets linked into /system/bin, the framework tools linked
to `/system/bin/init`), `/data` and `/storage` bound from the device's data folder, its own user,
pid, mount, ipc, uts and network namespaces, no capabilities, and nothing else of the host but the
few read-only libraries mksh and toybox load. Its pid 1 is `androidd.c` acting as zygote: the device
asks it over a unix socket (outside the sandbox) to fork a process with the fds it passes; the
connection lives as long as that process, so hanging up kills the process's whole session. One
sandbox stays up per device, so an `adb shell` costs a fork and an exec, not a sandbox.

Limits hold whatever runs inside: RLIMIT_NPROC counts the sandbox user's processes in the sandbox's
own user namespace (a fork bomb stops there), RLIMIT_AS and RLIMIT_FSIZE bound one process's memory
and file size.

Where user namespaces are unavailable `start()` raises `SandboxUnavailable` with bwrap's reason; the
shell services then refuse to run anything (see `emulators.virtual.sandbox.userland`): a device
shell never runs outside a sandbox.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from emulators.virtual.device import DeviceError

HELPER_SOURCE = Path(__file__).with_name("androidd.c")
SHELL_UID = 2000
PATH = "/product/bin:/apex/com.android.runtime/bin:/system_ext/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin"
# toybox applets not linked: ours replace them (sh, init, ps), or they could only fail here (su and
# the password tools need setuid, which one mapped uid cannot give; a missing su is what a client
# probing for root should find).
NOT_LINKED = frozenset({"sh", "init", "ps", "su", "login", "passwd", "mkpasswd"})
# Android's toybox has these; Debian's toybox 0.8.9 is built without them. busybox's applets are the
# nearest real implementations (same POSIX options, the same terse usage errors); busybox itself stays
# off the PATH, as on a phone, and runs the applet its link is named for.
FROM_BUSYBOX = ("tr", "expr", "dd", "diff", "hexdump", "gzip")
BUSYBOX_PATH = "/system/lib/busybox"
# System processes every image runs; each is an idle process of that name, so `ps -A` looks familiar.
SYSTEM_PROCESSES = ("ueventd", "logd", "servicemanager", "vold", "zygote64", "zygote", "adbd", "system_server",
                    "com.android.systemui", "com.android.phone")
MKSHRC = r"""# /system/etc/mkshrc, as AOSP ships it (trimmed)
: ${HOSTNAME:=$(getprop ro.product.device)}
: ${HOSTNAME:=android}
: ${TMPDIR:=/data/local/tmp}
export HOSTNAME TMPDIR
if (( USER_ID )); then PS1='$'; else PS1='#'; fi
PS1='$HOSTNAME:${PWD:-?} '"$PS1 "
"""
# Android's toybox ps prints this by default; Debian's toybox is built for a desktop.
PS = """#!/system/bin/sh
for a; do case $a in -*[oOfl]*) exec -a ps /system/bin/toybox "$@";; esac; done
exec -a ps /system/bin/toybox -o USER,PID,PPID,VSZ,RSS,WCHAN,ADDR,S,NAME "$@"
"""
PASSWD = "".join(f"{name}:x:{uid}:{uid}::/:/system/bin/sh\n" for name, uid in (
    ("root", 0), ("system", 1000), ("radio", 1001), ("log", 1007), ("shell", 2000), ("nobody", 9999)))
GROUP = "".join(f"{name}:x:{gid}:\n" for name, gid in (
    ("root", 0), ("system", 1000), ("radio", 1001), ("input", 1004), ("log", 1007), ("adb", 1011),
    ("sdcard_rw", 1015), ("shell", 2000), ("inet", 3003), ("nobody", 9999)))


class SandboxUnavailable(DeviceError):
    """The device's userland cannot run here (no bubblewrap, mksh, toybox or user namespaces)."""


@dataclass(frozen=True)
class Limits:
    processes: int = 256  # RLIMIT_NPROC for the sandbox user
    memory: int = 256 << 20  # RLIMIT_AS per process, bytes
    file_size: int = 512 << 20  # RLIMIT_FSIZE, bytes
    cpu_seconds: int = 600  # RLIMIT_CPU per process: idle servers never reach it, an escaped spinner does


# --------------------------------------------------------------------------------------------
# The helper binary
# --------------------------------------------------------------------------------------------

_build_lock = threading.Lock()


def helper_binary() -> Path:
    """androidd.c compiled once per source version (static, so the sandbox needs no extra libs)."""
    source = HELPER_SOURCE.read_bytes()
    cache = Path(os.environ.get("VIRTUAL_EMULATOR_CACHE") or Path(tempfile.gettempdir()) / f"virtual-emulator-{os.getuid()}")
    target = cache / f"androidd-{hashlib.sha1(source).hexdigest()[:12]}"
    with _build_lock:
        if target.is_file():
            return target
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            raise SandboxUnavailable("no C compiler to build the device's init (apt-get install gcc libc6-dev)")
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".{target.name}.{os.getpid()}"
        built = subprocess.run([compiler, "-O2", "-static", "-o", str(partial), str(HELPER_SOURCE)],
                               check=False, capture_output=True, text=True)
        if built.returncode != 0:
            raise SandboxUnavailable(f"building the device's init failed: {built.stderr.strip()[-500:]}")
        partial.replace(target)  # atomic: concurrent emulators never run a half-written binary
        return target


def _tool(name: str) -> Path:
    found = shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")
    if found is None:
        raise SandboxUnavailable(f"{name} is not installed (apt-get install mksh toybox original-awk busybox bubblewrap)")
    return Path(found).resolve()


def _libraries(binaries: Sequence[Path]) -> list[Path]:
    """The shared objects the dynamically linked binaries load (from `ldd`), resolved."""
    found: set[Path] = set()
    for binary in binaries:
        out = subprocess.run(["ldd", str(binary)], check=False, capture_output=True, text=True).stdout
        for line in out.splitlines():
            words = line.split()
            path = words[2] if "=>" in words and len(words) > 2 else words[0] if words else ""
            if path.startswith("/"):
                found.add(Path(path))
    return sorted(found)


_toybox_applets: list[str] | None = None


def toybox_applets(toybox: Path) -> list[str]:
    global _toybox_applets
    if _toybox_applets is None:
        out = subprocess.run([str(toybox)], check=False, capture_output=True, text=True).stdout
        _toybox_applets = [a for a in out.split() if a not in ("[",)]
    return _toybox_applets


# --------------------------------------------------------------------------------------------
# Processes inside
# --------------------------------------------------------------------------------------------


class Child:
    """One process the zygote forked; its connection lives exactly as long as the process."""

    def __init__(self, conn: socket.socket, pid: int) -> None:
        self.conn = conn
        self.pid = pid  # as the sandbox sees it
        self.status: int | None = None
        self._lock = threading.Lock()

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit status (128+N for a signal), or None if still running after `timeout`."""
        with self._lock:
            if self.status is not None:
                return self.status
            self.conn.settimeout(timeout)
            try:
                reply = self.conn.recv(5)
            except (TimeoutError, BlockingIOError):
                return None
            except OSError:
                reply = b""
            self.status = int.from_bytes(reply[1:5], "little", signed=True) if reply[:1] == b"x" else 137
            return self.status

    def running(self) -> bool:
        return self.wait(0) is None

    def release(self) -> None:
        """It finished normally: leave whatever it left running (`nohup cmd &`) alone."""
        try:
            self.conn.send(b"r")
        except OSError:
            pass
        self.conn.close()

    def stop(self, timeout: float = 2.0) -> None:
        """Kill the session and wait until the process is reaped (gone from ps), then hang up."""
        try:
            self.conn.send(b"k")
        except OSError:
            pass
        self.wait(timeout)
        self.kill()

    def kill(self) -> None:
        """Hang up: the zygote kills the process's whole session, even after it exited."""
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        if self.status is None:
            self.status = 137


class Sandbox:
    """One device's bubblewrap root and its zygote (see the module docstring)."""

    def __init__(self, fs_root: Path, root: bool, limits: Limits | None = None) -> None:
        self.fs_root = fs_root
        self.root = root
        self.uid = 0 if root else SHELL_UID
        self.limits = limits or Limits()
        self.run_dir = Path(tempfile.mkdtemp(prefix="vdev-"))  # short: unix socket paths max 108 bytes
        self.zygote_path = str(self.run_dir / "zygote")
        self.tool_socket_dir = self.run_dir / "socket"
        self.tool_socket_dir.mkdir()
        self._process: subprocess.Popen[bytes] | None = None
        self._lifeline: int | None = None  # while we hold its write end, the zygote lives
        self._bound: tuple[tuple[int, int], ...] = ()

    @property
    def tool_socket_path(self) -> Path:
        return self.tool_socket_dir / "framework"

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        bwrap = _tool("bwrap")
        helper = helper_binary()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(self.zygote_path)
        listener.listen(64)
        # Not --die-with-parent: that follows the *thread* that started bwrap (an adbd stream).
        lifeline_read, self._lifeline = os.pipe2(os.O_CLOEXEC)
        try:
            args = self._bwrap_args(bwrap, helper, listener.fileno(), lifeline_read)
            self._bound = self._bind_identity()
            self._process = subprocess.Popen(args, pass_fds=(listener.fileno(), lifeline_read),
                                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.PIPE)
        finally:
            listener.close()  # the zygote holds them now
            os.close(lifeline_read)
        # The listener was ready before bwrap started, so a spawn simply waits for the zygote;
        # a quick `true` proves the whole chain (namespaces, binds, exec) works.
        null = _devnull()
        try:
            probe = self.spawn(["/system/bin/sh", "-c", ":"], [null] * 3, timeout=10)
            status = probe.wait(10)
        except (OSError, SandboxUnavailable) as error:
            status, reason = None, str(error)
        else:
            reason = ""
        finally:
            os.close(null)
        if status != 0:
            err = self._failure_text(wait=2.0) or reason or f"probe exited with {status}"
            self.stop()
            raise SandboxUnavailable(f"bubblewrap sandbox failed to start: {err}")

    def _failure_text(self, wait: float = 0.0) -> str:
        process = self._process
        if process is None:
            return ""
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            return ""
        return (process.stderr.read() if process.stderr else b"").decode(errors="replace").strip()

    def binds_current(self) -> bool:
        """Whether /data and /storage still are the folders bound at start: a snapshot load or a
        wipe replaces them, and a running sandbox would keep seeing the deleted ones."""
        return self._bound == self._bind_identity()

    def _bind_identity(self) -> tuple[tuple[int, int], ...]:
        found = []
        for folder in (self.fs_root / "data", self.fs_root / "storage"):
            try:
                st = folder.stat()
            except OSError:
                return ()
            found.append((st.st_dev, st.st_ino))
        return tuple(found)

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        process, self._process = self._process, None
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
        if process is not None:
            process.kill()  # bwrap's pid namespace dies with its pid 1, taking every process in it
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if process.stderr:
                process.stderr.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    # --- spawning ------------------------------------------------------------------------
    def spawn(self, argv: Sequence[str], fds: Sequence[int], *, path: str | None = None,
              env: dict[str, str] | None = None, pty: bool = False, cwd: str = "/",
              timeout: float = 5.0) -> Child:
        """Fork `argv` in the sandbox with `fds` as its 0, 1, 2; returns once it runs."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.settimeout(timeout)
            conn.connect(self.zygote_path)
            environment = [f"{k}={v}" for k, v in (env if env is not None else self.environment()).items()]
            fields = ["pty" if pty else "pipe", cwd, str(len(argv)), path or argv[0], *argv, *environment]
            payload = b"".join(f.encode("utf-8", "surrogateescape") + b"\0" for f in fields)
            socket.send_fds(conn, [payload], list(fds))
            reply = self._reply(conn, timeout)
        except OSError as error:
            conn.close()
            raise SandboxUnavailable(f"the device's zygote did not answer: {error}") from error
        if reply[:1] != b"p":
            conn.close()
            raise SandboxUnavailable("the device's zygote could not fork (process limit reached)")
        conn.settimeout(None)
        return Child(conn, int.from_bytes(reply[1:5], "little"))

    def _reply(self, conn: socket.socket, timeout: float) -> bytes:
        """The zygote's answer; gives up as soon as the sandbox died (bwrap could not set it up)."""
        deadline = time.monotonic() + timeout
        conn.settimeout(0.05)
        while True:
            try:
                return conn.recv(5)
            except TimeoutError:
                if not self.alive() or time.monotonic() > deadline:
                    raise SandboxUnavailable(self._failure_text() or "the device's zygote did not answer") from None

    def environment(self, **extra: str) -> dict[str, str]:
        user = "root" if self.root else "shell"
        env = {"PATH": PATH, "ANDROID_DATA": "/data", "ANDROID_ROOT": "/system",
               "ANDROID_STORAGE": "/storage", "EXTERNAL_STORAGE": "/sdcard", "ASEC_MOUNTPOINT": "/mnt/asec",
               "HOME": "/", "TMPDIR": "/data/local/tmp", "SHELL": "/system/bin/sh", "USER": user,
               "LOGNAME": user, "ENV": "/system/etc/mkshrc", "TERM": "dumb"}
        env.update(extra)
        return env

    def spawn_idle(self, name: str) -> Child:
        """An app or system process: sleeps forever under `name` (what ps and pidof show)."""
        null = _devnull()
        try:
            return self.spawn([name], [null] * 3, path="/system/bin/init",
                              env={"ANDROIDD_IDLE": "1"})
        finally:
            os.close(null)

    # --- the root's layout -----------------------------------------------------------------
    def _bwrap_args(self, bwrap: Path, helper: Path, listener_fd: int, lifeline_fd: int) -> list[str]:
        mksh, toybox = _tool("mksh"), _tool("toybox")
        # Android's awk is one-true-awk (external/one-true-awk), which Debian ships as original-awk.
        awk, busybox = _tool("original-awk"), _tool("busybox")
        etc = self.run_dir / "etc"
        etc.mkdir(exist_ok=True)
        (etc / "mkshrc").write_text(MKSHRC)
        (etc / "passwd").write_text(PASSWD)
        (etc / "group").write_text(GROUP)
        (etc / "ps").write_text(PS)
        (etc / "ps").chmod(0o755)
        data, storage, cache = self.fs_root / "data", self.fs_root / "storage", self.fs_root / "cache"
        for folder in (data / "local" / "tmp", storage / "emulated" / "0", cache / "recovery"):
            folder.mkdir(parents=True, exist_ok=True)
        args = [str(bwrap), "--unshare-user", "--uid", str(self.uid), "--gid", str(self.uid),
                "--disable-userns", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
                "--unshare-cgroup-try",
                "--hostname", "localhost", "--as-pid-1", "--cap-drop", "ALL",
                "--clearenv", "--setenv", "PATH", PATH]
        for lib in _libraries([mksh, toybox, awk, busybox]):
            args += ["--ro-bind", str(lib), str(lib)]
        args += ["--ro-bind", str(mksh), "/system/bin/sh", "--ro-bind", str(toybox), "/system/bin/toybox",
                 "--ro-bind", str(helper), "/system/bin/init", "--symlink", "/system/bin/init", "/init",
                 "--symlink", "/system/bin/sh", "/system/bin/mksh"]
        from emulators.virtual.sandbox.toolserver import tool_names

        framework = set(tool_names())
        applets = set(toybox_applets(toybox))
        for applet in sorted(applets):
            if applet not in framework and applet not in NOT_LINKED:
                args += ["--symlink", "toybox", f"/system/bin/{applet}"]
        args += ["--ro-bind", str(awk), "/system/bin/awk", "--ro-bind", str(busybox), BUSYBOX_PATH]
        for applet in FROM_BUSYBOX:
            if applet not in applets:
                args += ["--symlink", BUSYBOX_PATH, f"/system/bin/{applet}"]
        for name in sorted(framework):
            args += ["--symlink", "init", f"/system/bin/{name}"]
        args += ["--ro-bind", str(etc / "ps"), "/system/bin/ps", "--ro-bind", str(etc / "mkshrc"), "/system/etc/mkshrc",
                 "--ro-bind", str(etc / "passwd"), "/etc/passwd", "--ro-bind", str(etc / "group"), "/etc/group",
                 "--symlink", "/system/bin", "/bin", "--symlink", "/system/etc/hosts", "/etc/hosts",
                 "--dev", "/dev", "--proc", "/proc",
                 "--ro-bind", str(self.tool_socket_dir), "/dev/socket"]
        if self.root:  # /cache too: recovery's command file (/cache/recovery/command) is written there
            args += ["--bind", str(data), "/data", "--bind", str(cache), "/cache"]
        else:  # the shell user writes only where it may on a phone
            args += ["--ro-bind", str(data), "/data", "--bind", str(data / "local" / "tmp"), "/data/local/tmp",
                     "--ro-bind", str(cache), "/cache"]
        args += ["--bind", str(storage), "/storage", "--symlink", "/storage/emulated/0", "/sdcard",
                 "--symlink", "/storage/emulated/0", "/mnt/sdcard",
                 "--dir", "/vendor", "--dir", "/product", "--dir", "/apex",
                 "--remount-ro", "/", "--chdir", "/", "/init", str(listener_fd), str(lifeline_fd),
                 str(self.limits.processes), str(self.limits.memory), str(self.limits.file_size),
                 str(self.limits.cpu_seconds)]
        return args


def _devnull() -> int:
    return os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)


def wait_gone(child: Child, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.running():
            return True
        time.sleep(0.01)
    return False
