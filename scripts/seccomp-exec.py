#!/usr/bin/python3
"""Runs a command under the system-call filter that packaging/livedash.service asks systemd for,
rebuilt with libseccomp (through ctypes; no seccomp module needed), for machines where systemd does
not run the unit (scripts/test-confined.sh). Usage: seccomp-exec.py COMMAND [ARGS...]

What it reproduces, from the unit:
  SystemCallFilter=@system-service ~@privileged @resources, SystemCallErrorNumber=EPERM: the
      groups expanded by `systemd-analyze syscall-filter`, everything else refused with EPERM;
  SystemCallArchitectures=native: libseccomp's filter admits the native architecture only;
  RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX: socket() for those families only;
  MemoryDenyWriteExecute: no mapping both writable and executable, no mprotect() to executable;
  RestrictNamespaces: clone() without namespace flags, no unshare()/setns(), clone3() ENOSYS (as
      systemd does, so that the C library falls back to clone());
  RestrictSUIDSGID: chmod() and friends without the set-user/group-ID bits;
  LockPersonality: personality() only to query or keep the default.
The process must already have no-new-privileges set (setpriv --no-new-privs) unless it is root.
"""

import ctypes
import errno
import os
import subprocess
import sys

ALLOW = 0x7FFF0000
CMP_EQ = 4
CMP_MASKED_EQ = 7
PROT_WRITE, PROT_EXEC = 0x2, 0x4
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
CLONE_NEW = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
SUID_SGID = 0o6000


def errno_action(code):
    return 0x00050000 | (code & 0xFFFF)


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]


def expand(group, seen):
    """The system calls of a systemd group, its nested groups expanded."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", group], check=True, capture_output=True, text=True)
    calls = set()
    for line in out.stdout.splitlines()[1:]:
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if name.startswith("@"):
            if name not in seen:
                seen.add(name)
                calls |= expand(name, seen)
        else:
            calls.add(name)
    return calls


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: seccomp-exec.py COMMAND [ARGS...]")
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]

    allowed = expand("@system-service", set()) - expand("@privileged", set()) - expand("@resources", set())
    ctx = lib.seccomp_init(errno_action(errno.EPERM))
    if not ctx:
        sys.exit("seccomp-exec: seccomp_init failed")

    def rule(action, name, *cmps):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            return  # not a system call of this architecture
        arr = (ArgCmp * max(len(cmps), 1))(*[ArgCmp(*c) for c in cmps])
        rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
        if rc != 0:
            sys.exit(f"seccomp-exec: cannot add the rule for {name}: {os.strerror(-rc)}")

    special = {"socket", "mmap", "mmap2", "mprotect", "pkey_mprotect", "clone", "clone3", "unshare", "setns",
               "chmod", "fchmod", "fchmodat", "fchmodat2", "personality", "shmat"}
    for name in sorted(allowed - special):
        rule(ALLOW, name)
    for family in (AF_UNIX, AF_INET, AF_INET6):
        rule(ALLOW, "socket", (0, CMP_EQ, family, 0))
    for prot in (0, PROT_WRITE, PROT_EXEC):
        rule(ALLOW, "mmap", (2, CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, prot))
    rule(ALLOW, "mprotect", (2, CMP_MASKED_EQ, PROT_EXEC, 0))
    rule(ALLOW, "pkey_mprotect", (2, CMP_MASKED_EQ, PROT_EXEC, 0))
    rule(ALLOW, "clone", (0, CMP_MASKED_EQ, CLONE_NEW, 0))
    rule(errno_action(errno.ENOSYS), "clone3")
    rule(ALLOW, "chmod", (1, CMP_MASKED_EQ, SUID_SGID, 0))
    rule(ALLOW, "fchmod", (1, CMP_MASKED_EQ, SUID_SGID, 0))
    rule(ALLOW, "fchmodat", (2, CMP_MASKED_EQ, SUID_SGID, 0))
    rule(ALLOW, "fchmodat2", (2, CMP_MASKED_EQ, SUID_SGID, 0))
    rule(ALLOW, "personality", (0, CMP_EQ, 0, 0))
    rule(ALLOW, "personality", (0, CMP_EQ, 0xFFFFFFFF, 0))
    if lib.seccomp_load(ctx) != 0:
        sys.exit("seccomp-exec: seccomp_load failed (is no-new-privileges set?)")
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
