"""Runs the sockreuse suite on the host kernel and on Debian kernels booted under qemu.

The package has one module per job, lowest first:

    config     Config: every path and setting of a run (no module keeps global state)
    fetch      which Debian kernel packages exist (python3-apt), download, unpack, changelog
    modules    the kernel modules the suite needs and their dependencies (.modinfo)
    initramfs  the guest's root: busybox, the runner and its libraries, cases, modules, init
    channel    the framing that brings the JSON report back over a serial port
    qemu       boots one kernel and returns its report; host runs the suite on this kernel
    report     stores a report, writes compact baselines, the timeline between releases
    cli        kernels/run: picks kernels, runs them side by side, resumes, compares

kernels/run is the command; see cli.py for its options.
"""


class Failure(Exception):
    """One kernel failed; the message is printed as "<kernel>: <message>"."""
